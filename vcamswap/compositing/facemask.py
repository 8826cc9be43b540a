"""The paste mask of a mesh-warped face, and where a source photo shows skin.

A binary mesh edge eroded and blurred leaves a line across the forehead where the mesh ends and
carries whatever the source's mesh edge covered (hair, a wall) onto the target. Instead:

- the alpha rises with the distance from the face outline (a feather a fraction of the face
  wide, smoothstep-shaped), so the jaw line and the temples stay the target's;
- above the brows it fades out along the face's up axis, so the forehead blends into the
  target's own instead of ending in a line;
- eyes and the mouth are soft holes (the target's gaze and mouth interior stay live);
- ``skin_map`` marks the source photo's skin (a colour model sampled from its cheeks), so
  hair, glasses frames and background inside the source's mesh fade out instead of being
  pasted (the face's features are always kept)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from vcamswap.types import BgrImage, Points

FloatImage = np.ndarray[Any, np.dtype[np.float32]]
FADE_FROM = 0.25
"""Where the forehead fade starts, from the brow line (0) to the top of the mesh (1)."""
GrayMap = np.ndarray[Any, np.dtype[np.uint8]]


def smoothstep(x: FloatImage) -> FloatImage:
    t = np.clip(x, 0.0, 1.0)
    out: FloatImage = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    return out


def _polygon(points: Points) -> np.ndarray[Any, np.dtype[np.int32]]:
    return np.round(points).astype(np.int32).reshape(-1, 1, 2)


def face_alpha(
    shape: tuple[int, int],
    outline: Points,
    brow: Points,
    top: Points,
    feather: float,
    holes: Sequence[Points] = (),
) -> FloatImage:
    """A 0..1 paste mask of ``shape`` (rows, columns): inside ``outline`` (a closed polygon,
    patch pixels), rising over ``feather`` pixels from its edge; from ``brow`` towards ``top``
    (two points on the face's midline: the brow line and the top of the mesh) it fades to 0
    over the upper part of the forehead; ``holes`` (polygons) are cut out softly."""
    h, w = shape
    hard = np.zeros((h, w), np.uint8)
    cv2.fillPoly(hard, [_polygon(outline)], 1)
    dist = cv2.distanceTransform(hard, cv2.DIST_L2, 3)
    alpha = smoothstep(dist * np.float32(1.0 / max(feather, 1.0)))
    up = (top - brow).astype(np.float64)
    length2 = float(up @ up)
    if length2 > 1.0:
        # s = 0 on the brow line, 1 at the top of the mesh, along the face's up axis
        xs = (np.arange(w, dtype=np.float64) - brow[0]) * up[0] / length2
        ys = (np.arange(h, dtype=np.float64) - brow[1]) * up[1] / length2
        s = (ys[:, None] + xs[None, :]).astype(np.float32)
        alpha *= 1.0 - smoothstep((s - np.float32(FADE_FROM)) * np.float32(1.0 / (1.0 - FADE_FROM)))
    if holes:
        cut = np.zeros((h, w), np.uint8)
        for hole in holes:
            cv2.fillConvexPoly(cut, _polygon(hole), 255)
        k = max(3, int(feather * 0.25) | 1)
        soft = cv2.GaussianBlur(cut, (k, k), 0).astype(np.float32) * np.float32(1.0 / 255.0)
        alpha *= 1.0 - soft
    result: FloatImage = alpha.astype(np.float32)
    return result


def skin_map(texture: BgrImage, samples: Sequence[Points]) -> GrayMap:
    """Where ``texture`` shows skin like the ``samples`` polygons (cheeks, nose): 0..255."""
    h, w = texture.shape[:2]
    lab = cv2.cvtColor(texture, cv2.COLOR_BGR2LAB).astype(np.float32)
    sample = np.zeros((h, w), np.uint8)
    for polygon in samples:
        cv2.fillConvexPoly(sample, _polygon(polygon), 1)
    pixels = lab[sample > 0]
    out = np.full((h, w), 255, np.uint8)
    if len(pixels) >= 20:
        mean = pixels.mean(axis=0)
        spread = pixels.std(axis=0)
        # Chroma decides; lightness only rules out what is far darker or brighter than skin
        # (black hair, a white wall) since shading varies more than skin tone does.
        scale = np.array(
            [2.5 * spread[0] + 25.0, 2.5 * spread[1] + 6.0, 2.5 * spread[2] + 6.0], np.float32
        )
        d2 = (((lab - mean) / scale) ** 2).sum(axis=2)
        likely = np.clip(1.5 - d2, 0.0, 1.0)
        k = max(3, (min(h, w) // 40) | 1)
        likely = cv2.GaussianBlur(likely.astype(np.float32), (k, k), 0)
        out = np.clip(likely * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def feature_hull(shape: tuple[int, int], features: Points, soften: float) -> FloatImage:
    """1 inside the hull of the face's features (brows, eyes, nose, mouth), softened over
    ``soften`` pixels: the part of the face always pasted, whatever its colour."""
    kept = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(kept, cv2.convexHull(_polygon(features)), 255)
    k = max(3, int(soften) | 1)
    soft: FloatImage = cv2.GaussianBlur(kept, (k, k), 0).astype(np.float32) * np.float32(1 / 255)
    return soft
