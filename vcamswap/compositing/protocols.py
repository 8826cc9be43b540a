"""What a compositor is asked to do for one frame, and the seam between its two implementations:
``HostCompositor`` (OpenCV on the CPU) and ``DeviceCompositor`` (ONNX graphs on the models'
device, through IO binding). The engine decides which faces, which source and how often the
enhancer refreshes; the compositor crops, swaps, matches colour, sharpens, pastes and enhances."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from vcamswap.ports import Matrix
from vcamswap.types import BgrImage, StageRecorder


@dataclass(frozen=True, slots=True)
class Look:
    """The user's compositing settings for a frame."""

    color_correction: bool = True
    sharpness: float = 0.0
    opacity: float = 1.0
    mouth_mask: bool = False


@dataclass(frozen=True, slots=True)
class FaceJob:
    """One frame's faces: their keypoints, the matrices (frame -> the swapped crop, whose side
    is the swapper's input size times ``tiles``) and the source latent (one row for every
    face, or one row per face).

    ``tiles`` > 1 is pixel boost: the crop is tiles x tiles times the swapper's size and is
    swapped as that many sub-sampled tiles. ``masks``: per face, a crop-sized 0..1 region mask
    (the face parser's) that multiplies the paste mask. ``tracks``: per face, its track id;
    the compositor smooths each track's colour statistics across frames (empty: none)."""

    kps: list[np.ndarray[Any, Any]]
    matrices: list[Matrix]
    latents: np.ndarray[Any, np.dtype[np.float32]]
    tiles: int = 1
    masks: list[np.ndarray[Any, np.dtype[np.float32]]] | None = None
    tracks: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class EnhanceJob:
    """The enhancer's matrices (frame -> its crop) and paste mask; ``refresh`` False re-pastes
    the restored crops of the last refresh where they were restored (enhancer every Nth frame)."""

    matrices: list[Matrix]
    alpha: np.ndarray[Any, np.dtype[np.float32]]
    refresh: bool = True


class Compositor(Protocol):
    """Crop -> swap -> colour -> paste (-> enhance) for every face of a frame."""

    @property
    def where(self) -> str:
        """Where the work runs, for logs and status ('host', 'cuda', 'cpu')."""

    def composite(
        self,
        image: BgrImage,
        faces: FaceJob,
        look: Look,
        enhance: EnhanceJob | None,
        stages: StageRecorder,
    ) -> BgrImage:
        """The frame with every face swapped (and enhanced); ``image`` is not modified.
        Records swap, paste (and enhance, transfer) stage times in milliseconds."""

    def close(self) -> None:
        """Release threads and buffers. Idempotent."""
