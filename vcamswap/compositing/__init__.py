"""Compositing: everything between a model's output crop and the frame the viewers see (masks,
colour transfer, sharpening, paste-back, the enhancer's re-paste), on the host or on the models'
device behind one ``Compositor`` protocol."""

from vcamswap.compositing.host import HostCompositor, HostEnhancer
from vcamswap.compositing.protocols import Compositor, EnhanceJob, FaceJob, Look

__all__ = ["Compositor", "EnhanceJob", "FaceJob", "HostCompositor", "HostEnhancer", "Look"]
