"""Occlusion-aware paste masks from a face parser (swap.mask: parser).

The box mask pastes the whole aligned crop, so a hand, a microphone, glasses or hair in front
of the face disappear under the swapped face. The parser labels each pixel of the target's
aligned crop; the mask keeps only the chosen face regions (skin, brows, eyes, nose, mouth,
lips by default), so anything else stays the camera's.

Per face track: the parser can run every Nth frame (the mask is in aligned-crop coordinates,
so it follows the face in between), and each face's mask is blended with its previous one so
a label flickering on a boundary does not make the edge shimmer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from vcamswap.inference.align import crop
from vcamswap.ports import FaceParser, Labels, Matrix
from vcamswap.types import BgrImage

FloatImage = np.ndarray[Any, np.dtype[np.float32]]

REGIONS: dict[str, tuple[int, ...]] = {
    "skin": (1,),
    "brows": (2, 3),
    "eyes": (4, 5),
    "glasses": (6,),
    "ears": (7, 8),
    "nose": (10,),
    "mouth": (11,),
    "lips": (12, 13),
}
"""Config names -> CelebAMask-HQ classes (0 background, 9 earring, 14-15 neck, 16 cloth,
17 hair, 18 hat are never pasted over)."""
DEFAULT_REGIONS = ("skin", "brows", "eyes", "nose", "mouth", "lips")
KEEP_PREVIOUS = 0.4
"""Share of a face's previous mask in its new one (0: no temporal smoothing)."""


def classes_of(regions: Sequence[str]) -> tuple[int, ...]:
    return tuple(sorted({c for name in regions for c in REGIONS[name]}))


def region_mask(labels: Labels, classes: Sequence[int], size: int) -> FloatImage:
    """A soft 0..1 mask at ``size`` of the pixels labelled one of ``classes``: edges feathered
    over about 2% of the crop, centred on the label boundary."""
    keep = np.isin(labels, np.asarray(classes, np.uint8)).astype(np.float32)
    if keep.shape[0] != size:
        keep = cv2.resize(keep, (size, size), interpolation=cv2.INTER_AREA)
    soft = cv2.GaussianBlur(keep, (0, 0), max(1.0, size * 0.01))
    mask: FloatImage = np.clip((soft - 0.25) * 2.0, 0.0, 1.0).astype(np.float32)
    return mask


class OcclusionMasks:
    """Per-track parser masks for the engine's faces. Not thread-safe: the inference thread
    calls it."""

    def __init__(
        self,
        parser: FaceParser,
        regions: Sequence[str] = DEFAULT_REGIONS,
        keep_previous: float = KEEP_PREVIOUS,
    ) -> None:
        self._parser = parser
        self._classes = classes_of(regions)
        self._keep = keep_previous
        self._masks: dict[int, FloatImage] = {}

    def masks(
        self,
        image: BgrImage,
        matrices: Sequence[Matrix],
        size: int,
        tracks: Sequence[int],
        refresh: bool,
    ) -> list[FloatImage]:
        """One mask per face at ``size`` (the swapped crop's side; ``matrices`` map the frame
        to that crop). The parser runs on faces without a mask yet, or on all when
        ``refresh``; faces no longer tracked are forgotten."""
        self._masks = {t: m for t, m in self._masks.items() if t in tracks}
        side = self._parser.spec.input_size
        todo = [
            i
            for i, t in enumerate(tracks)
            if refresh or t not in self._masks or self._masks[t].shape[0] != size
        ]
        if todo:
            scale = side / float(size)
            crops = [crop(image, matrices[i] * scale, side) for i in todo]
            for i, labels in zip(todo, self._parser.parse(crops), strict=True):
                fresh = region_mask(labels, self._classes, size)
                old = self._masks.get(tracks[i])
                if old is not None and old.shape == fresh.shape and self._keep > 0:
                    fresh = (self._keep * old + (1.0 - self._keep) * fresh).astype(np.float32)
                self._masks[tracks[i]] = fresh
        return [self._masks[t] for t in tracks]

    def clear(self) -> None:
        self._masks = {}
