"""Judging a swap from its output alone, independent of the engine's own masks and landmarks:
the seam and colour step at the edge of what changed, and where an independent detector finds
the real face. Shared by the tests and ``benchmarks/realism.py``."""

from __future__ import annotations

import functools
from typing import Any

import cv2
import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab

from vcamswap.inference.landmarks import DlibLandmarker
from vcamswap.samples import animation_matrix
from vcamswap.types import BgrImage, FaceBox

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@functools.cache
def judge() -> DlibLandmarker:
    """A landmarker of the judge's own (not the engine's instance)."""
    return DlibLandmarker()


def _gradient(image: BgrImage) -> np.ndarray[Any, Any]:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    magnitude: np.ndarray[Any, Any] = np.hypot(
        cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)
    )
    return magnitude


def _ring_de(image: BgrImage, inner: np.ndarray[Any, Any], outer: np.ndarray[Any, Any]) -> float:
    lab = rgb2lab(image[:, :, ::-1])
    return float(deltaE_ciede2000(lab[inner > 0].mean(0), lab[outer > 0].mean(0)))  # type: ignore[no-untyped-call]


def seam_metrics(target: BgrImage, output: BgrImage) -> dict[str, float] | None:
    """On the edge of the region the swap changed (|output - target| > 12 grey levels,
    closed, opened, largest blob): ``seam``, the output's mean Sobel gradient on a 3 px band
    over the target's (1.0: as smooth as the photo was); ``ring_dE``, CIEDE2000 between 6 px
    rings just inside and just outside, output minus target (the colour step the swap added).
    None when nothing changed."""
    diff = np.abs(output.astype(np.int16) - target.astype(np.int16)).max(axis=2)
    changed = (diff > 12).astype(np.uint8)
    changed = cv2.morphologyEx(changed, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    changed = cv2.morphologyEx(changed, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(changed)
    if count < 2:
        return None
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    region = (labels == largest).astype(np.uint8)
    k3, k13 = np.ones((3, 3), np.uint8), np.ones((13, 13), np.uint8)
    band = cv2.dilate(region, k3, iterations=2) - cv2.erode(region, k3, iterations=2)
    seam = float(
        _gradient(output)[band > 0].mean() / max(float(_gradient(target)[band > 0].mean()), 1e-3)
    )
    inner = region - cv2.erode(region, k13)
    outer = cv2.dilate(region, k13) - region
    return {
        "seam": round(seam, 3),
        "ring_dE": round(_ring_de(output, inner, outer) - _ring_de(target, inner, outer), 2),
        "changed_px": int(region.sum()),
    }


def face_points(image: BgrImage, upsample: int = 0) -> FloatArray | None:
    """The judge's 68 landmarks of the largest face, or None."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    boxes = judge().detect(gray, upsample)
    if not boxes:
        return None
    points: FloatArray = judge().landmarks(gray, boxes[0]).astype(np.float64)
    return points


def animated_face(photo: BgrImage, index: int, count: int, size: tuple[int, int]) -> FloatArray:
    """The 68 landmarks of ``photo``'s largest face (found on the still photo, where the
    detector sees it best) carried into frame ``index`` of ``samples.animate``: the truth for
    a clip made from it, which needs no detector on the frame (HOG takes the astronaut's
    mission patch for the larger face in some frames)."""
    points = face_points(photo, 1)
    assert points is not None, "no face in the photo"
    matrix = animation_matrix(photo.shape[:2], index, count, size)
    moved: FloatArray = np.c_[points, np.ones(len(points))] @ matrix.T
    return moved


def on_face(region: FaceBox, points: FloatArray, margin: float = 0.25) -> bool:
    """Whether a swapped region's centre lies on the face the judge found (its landmarks'
    box, grown by ``margin`` of its size, and by its height upwards for the forehead)."""
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    cx, cy = (region.left + region.right) / 2, (region.top + region.bottom) / 2
    return bool(x0 - mx <= cx <= x1 + mx and y0 - my - (y1 - y0) * 0.5 <= cy <= y1 + my)
