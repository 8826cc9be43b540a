"""Shape transfer for the lite engine: the target's face reshaped part of the way to the
source's proportions before the source's texture goes on it.

The texture warp alone puts the source's skin and features on the *target's* geometry: the jaw
line, the face's width, where the eyes, nose and mouth sit. Those proportions are a large part
of what makes a face someone's (dlib's identity descriptor moved towards the source in only
about two thirds of pairs with texture alone). Here the target's 68 landmarks move ``strength``
of the way towards the source's landmarks (fitted onto the target by a similarity), and the
camera's pixels around the face are warped to match, inside a ring a third of the face wider
than the face, where nothing moves: the jaw, cheeks and everything the paste mask leaves to the
camera follow the new outline, so no double contour shows and the frame outside the ring is
untouched.

Expression stays the target's: the eyes and the mouth move and scale as a whole (their shape,
open or closed, is the target's own); the jaw, brows and nose take the source's shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vcamswap.inference.align import similarity
from vcamswap.processors import mesh
from vcamswap.types import BgrImage, Points

RING = 1.35
"""The fixed ring's radius, in the face mesh's extent from its centre."""
RING_POINTS = 16
WHOLE = (mesh.LEFT_EYE, mesh.RIGHT_EYE, slice(48, 68))
"""Moved and scaled as a whole (their shape is the target's expression)."""
FRONTAL = 0.35
TURNED = 0.8
"""From ``FRONTAL`` to this yaw (``mesh.yaw``) the transfer fades out: a turned head's
proportions in the picture are not the frontal photo's, and its far side folds."""


def morph_points(target: Points, source: Points, strength: float) -> Points:
    """The target's 68 landmarks moved ``strength`` (0..1) of the way to the source's 68,
    fitted onto the target by a similarity; eyes and mouth keep their shape."""
    if strength <= 0.0:
        return target
    matrix = similarity(source[:68], target[:68])
    fitted = (source[:68] @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)
    out = target[:68] + np.float32(strength) * (fitted - target[:68])
    for part in WHOLE:
        t, f = target[part], fitted[part]
        ct, cf = t.mean(axis=0), f.mean(axis=0)
        spread_t = float(np.sqrt(((t - ct) ** 2).sum(axis=1).mean()))
        spread_f = float(np.sqrt(((f - cf) ** 2).sum(axis=1).mean()))
        ratio = 1.0 + strength * (spread_f / max(spread_t, 1e-3) - 1.0)
        out[part] = ct + strength * (cf - ct) + (t - ct) * np.float32(ratio)
    result: Points = out.astype(np.float32)
    return result


def ring(points: Points) -> Points:
    """``RING_POINTS`` fixed points on an ellipse around the face mesh (78 points)."""
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    half = (points.max(axis=0) - points.min(axis=0)) / 2 * RING
    angles = np.linspace(0.0, 2 * np.pi, RING_POINTS, endpoint=False)
    result: Points = (centre + np.stack([np.cos(angles), np.sin(angles)], axis=1) * half).astype(
        np.float32
    )
    return result


@dataclass(frozen=True, slots=True)
class Reshape:
    """Where the camera's pixels move: the region at (``left``, ``top``) the maps cover (each
    pixel's source position in the frame), the landmarks they were made for and the face's
    new landmarks. Kept on the face's track and reused while the face holds still."""

    left: int
    top: int
    map_x: np.ndarray[Any, np.dtype[np.float32]]
    map_y: np.ndarray[Any, np.dtype[np.float32]]
    target: Points
    points: Points

    def fits(self, target: Points, morphed: Points) -> bool:
        return (
            self.target.shape == target.shape
            and float(np.abs(self.target - target).max()) < STILL_PX
            and float(np.abs(self.points - morphed).max()) < STILL_PX
        )

    def apply(self, frame: BgrImage) -> BgrImage:
        """The region of ``frame`` with its pixels moved."""
        moved: BgrImage = cv2.remap(
            frame, self.map_x, self.map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        return moved


STILL_PX = 0.35
"""Landmarks that moved less than this (pixels) reuse the last maps (as ``lite_patch``)."""


def strength_for(points: Points, strength: float) -> float:
    """The transfer's strength for a face turned ``mesh.yaw``: full up to ``FRONTAL``, none
    past ``TURNED``."""
    turn = abs(mesh.yaw(points))
    return float(strength * np.clip((TURNED - turn) / (TURNED - FRONTAL), 0.0, 1.0))


def reshape(
    frame_size: tuple[int, int],
    target: Points,
    morphed: Points,
    triangles: np.ndarray[Any, np.dtype[np.int32]],
) -> Reshape | None:
    """Maps that move the camera's pixels around the face so its landmarks sit at
    ``morphed``: ``triangles`` index the 78 mesh points followed by the ring's; ``frame_size``
    is (width, height). None when nothing moves or the face leaves the frame. The
    displacement is piecewise affine and smooth, so it is computed at half size (a quarter of
    the pixels) and scaled up; only the remap (``Reshape.apply``) runs at full size."""
    if float(np.abs(morphed - target).max()) < 0.5:
        return None
    old = mesh.with_forehead(target)
    fixed = ring(old)
    src = np.vstack([old, fixed]) * np.float32(0.5)
    dst = np.vstack([mesh.with_forehead(morphed), fixed]) * np.float32(0.5)
    w, h = frame_size
    maps = mesh.warp_maps(src, dst, triangles, ((w + 1) // 2, (h + 1) // 2))
    if maps is None:
        return None
    ph, pw = maps.inside.shape
    xs = np.arange(pw, dtype=np.float32)[None, :] + np.float32(maps.left)
    ys = np.arange(ph, dtype=np.float32)[:, None] + np.float32(maps.top)
    # one half-size pixel in from the ring (where the shift is ~0 anyway), so scaling it up
    # cannot spill past the ring
    inside = cv2.erode(maps.inside.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    shift_x = np.where(inside, maps.map_x - xs, np.float32(0.0))
    shift_y = np.where(inside, maps.map_y - ys, np.float32(0.0))
    left, top = 2 * maps.left, 2 * maps.top
    width, height = min(2 * pw, w - left), min(2 * ph, h - top)
    if width < 4 or height < 4:
        return None
    two = np.float32(2.0)
    big_x = cv2.resize(shift_x, (2 * pw, 2 * ph), interpolation=cv2.INTER_LINEAR)[:height, :width]
    big_y = cv2.resize(shift_y, (2 * pw, 2 * ph), interpolation=cv2.INTER_LINEAR)[:height, :width]
    map_x = big_x * two + (np.arange(width, dtype=np.float32)[None, :] + np.float32(left))
    map_y = big_y * two + (np.arange(height, dtype=np.float32)[:, None] + np.float32(top))
    return Reshape(left, top, map_x, map_y, target.copy(), morphed)


def ring_triangles(points: Points) -> np.ndarray[Any, np.dtype[np.int32]]:
    """Delaunay triangles over a face's 78 mesh points and its ring (made once per source
    face, on its own landmarks, and reused for every target as the mesh's are)."""
    return mesh.triangulate(np.vstack([points, ring(points)]).astype(np.float32))
