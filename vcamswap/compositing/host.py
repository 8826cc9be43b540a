"""The compositor on the CPU: OpenCV crops, the swapper's own pre- and post-processing, LAB
colour transfer, sharpening and a paste-back limited to each face's box."""

from __future__ import annotations

from typing import Any

import numpy as np

from vcamswap.compositing.blend import (
    face_alpha,
    feather_mask,
    paste_back,
    sharpen,
    transfer_color,
    zero_border,
)
from vcamswap.compositing.protocols import EnhanceJob, FaceJob, Look
from vcamswap.inference.align import crop
from vcamswap.ports import FaceEnhancer, FaceSwapper, Matrix
from vcamswap.types import BgrImage, StageRecorder, timed_stage


class HostEnhancer:
    """Restores face crops with the enhancer and pastes them back; between refreshes it
    re-pastes the last restored crops where they were restored. Any enhancer will do: local,
    or remote beside a device compositor."""

    def __init__(self, enhancer: FaceEnhancer) -> None:
        self._enhancer = enhancer
        self._restored: list[tuple[Matrix, BgrImage]] = []

    def apply(self, out: BgrImage, job: EnhanceJob) -> None:
        """Enhance ``out`` (owned by the caller) in place."""
        size = self._enhancer.spec.input_size
        if job.refresh or len(self._restored) != len(job.matrices):
            crops = [crop(out, m, size) for m in job.matrices]
            restored = self._enhancer.enhance(crops)
            self._restored = list(zip(job.matrices, restored, strict=True))
        inset = zero_border(job.alpha)
        for matrix, face in self._restored:
            paste_back(out, face, matrix, job.alpha, inset)


class HostCompositor:
    """``Compositor`` on the CPU. Not thread-safe: the inference thread calls it."""

    def __init__(self, swapper: FaceSwapper, enhancer: FaceEnhancer | None = None) -> None:
        self._swapper = swapper
        self._enhancer = HostEnhancer(enhancer) if enhancer is not None else None
        size = swapper.spec.input_size
        self._alpha = feather_mask(size)
        self._inset = zero_border(self._alpha)
        self._color_mask = (self._alpha > 0.5).astype(np.uint8)

    @property
    def where(self) -> str:
        return "host"

    def composite(
        self,
        image: BgrImage,
        faces: FaceJob,
        look: Look,
        enhance: EnhanceJob | None,
        stages: StageRecorder,
    ) -> BgrImage:
        size = self._swapper.spec.input_size
        crops = [crop(image, m, size) for m in faces.matrices]
        with timed_stage(stages, "swap"):
            swapped = self._swapper.swap(crops, faces.latents)
        out: BgrImage = image.copy()
        with timed_stage(stages, "paste"):
            for kps, matrix, target, raw in zip(
                faces.kps, faces.matrices, crops, swapped, strict=True
            ):
                result = raw
                if look.color_correction:
                    result = transfer_color(result, target, self._color_mask)
                result = sharpen(result, look.sharpness)
                alpha = face_alpha(self._alpha, kps, matrix, look.mouth_mask, look.opacity)
                paste_back(out, result, matrix, alpha, self._inset)
        if enhance is not None and self._enhancer is not None:
            with timed_stage(stages, "enhance"):
                self._enhancer.apply(out, enhance)
        return out

    def close(self) -> None:
        return None


def blank_job(swapper: FaceSwapper) -> tuple[BgrImage, FaceJob]:
    """A 640x480 black frame and one face in its middle: a compositor's first (warm-up) run."""
    kps = np.array([[40, 50], [88, 50], [64, 70], [46, 92], [82, 92]], np.float64)
    latent: np.ndarray[Any, np.dtype[np.float32]] = np.ones((1, 512), np.float32) / np.float32(
        np.sqrt(512.0)
    )
    job = FaceJob([kps], [swapper.matrix(kps)], latent)
    return np.zeros((480, 640, 3), np.uint8), job
