"""Is a tracked landmark set still on the face it started on? dlib's shape predictor returns 68
points for any box, so a track can slide onto the background or shear across a blurred head
turn, and the swap would paste a face there while the real face stays on air (the processor
would still report the frame as swapped, and the privacy guard would let it through).

Two cheap checks of each new landmark set against the last accepted one of the track:
- shape: aligned by a similarity transform, the points must keep the shape (mean residual as a
  share of the inter-ocular distance): a sudden shear is not a head moving;
- colour: the mean Lab colour of the inner face must not jump: when the face moves away and the
  predictor keeps points where it was (it always returns 68 points near the box it is given),
  what lies under them changes at once.
A rejected set keeps the last good landmarks for a few frames (a one-frame slip on glasses
does not end the swap); a track rejected longer ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vcamswap.inference import align
from vcamswap.processors import mesh
from vcamswap.types import BgrImage

Points = np.ndarray[Any, Any]
MAX_SHAPE_RESIDUAL = 0.3
"""Mean landmark residual after alignment, in inter-ocular distances, frame to frame. Measured
on the sample clips' head motion: p95 0.12, max 0.19."""
MAX_COLOUR_JUMP = 25.0
"""Lab distance between the inner face's mean colour and the last accepted frame's."""
HOLD_FRAMES = 3
"""Rejected fits in a row that keep the last good landmarks before the track ends."""
INNER = 0.6
"""The jaw-and-brows hull shrunk to this share around its centre: cheeks, nose and mouth, not
the border, where a few pixels of landmark error bring in hair, glasses or background."""


@dataclass(frozen=True, slots=True)
class FaceReference:
    """The last accepted landmarks of a track and the inner face's colour under them (NaN for
    a new track, whose first tracked frame sets it)."""

    points: Points
    colour: np.ndarray[Any, Any]


def hull_colour(image: BgrImage, points: Points) -> np.ndarray[Any, Any]:
    """Mean Lab colour inside the inner face."""
    h, w = image.shape[:2]
    outline = np.vstack([points[mesh.JAW], points[mesh.BROWS]]).astype(np.float32)
    centre = outline.mean(axis=0)
    hull = np.round(centre + (outline - centre) * INNER).astype(np.int32)
    x0, y0 = np.clip(hull.min(axis=0), 0, [w - 1, h - 1])
    x1, y1 = np.clip(hull.max(axis=0) + 1, 1, [w, h])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros(3, np.float32)
    roi = image[y0:y1, x0:x1]
    mask = np.zeros(roi.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(hull - [x0, y0]), 255)
    if not mask.any():
        return np.zeros(3, np.float32)
    lab = cv2.cvtColor(roi, cv2.COLOR_BGR2LAB).astype(np.float32)
    return np.asarray(cv2.mean(lab, mask=mask)[:3], np.float32)


def unset(points: Points) -> FaceReference:
    """A new track: its landmarks were fitted from a detection box that may be a few frames
    old (the detector runs on a side thread), so its first tracked frame sets the colour."""
    return FaceReference(points.astype(np.float32), np.full(3, np.nan, np.float32))


def shape_residual(ref: Points, new: Points) -> float:
    """Mean distance of ``new`` from ``ref`` after the best similarity alignment, in units of
    the reference's inter-ocular distance."""
    matrix = align.similarity(new.astype(np.float64), ref.astype(np.float64))
    moved = new @ matrix[:, :2].T + matrix[:, 2]
    iod = max(1e-6, mesh.inter_ocular(ref))
    return float(np.mean(np.linalg.norm(moved - ref, axis=1)) / iod)


def still_the_face(ref: FaceReference, image: BgrImage, new: Points) -> FaceReference | None:
    """The track's next reference when ``new`` is plausibly the same face, else None."""
    if shape_residual(ref.points, new) > MAX_SHAPE_RESIDUAL:
        return None
    colour = hull_colour(image, new)
    if np.isfinite(ref.colour).all() and \
            float(np.linalg.norm(colour - ref.colour)) > MAX_COLOUR_JUMP:
        return None
    return FaceReference(new.astype(np.float32), colour)
