"""Is a tracked landmark set still on the face it started on? dlib's shape predictor returns 68
points for any box, so a track can slide onto the background or shear across a blurred head
turn, and the swap would paste a face there while the real face stays on air (the processor
would still report the frame as swapped, and the privacy guard would let it through).

Two cheap checks against the track's reference (taken when a detection confirmed the face):
- shape: the points, aligned to the reference by a similarity transform, must keep its shape
  (mean residual as a share of the inter-ocular distance);
- colour: the mean Lab colour inside the face hull must stay near the reference's (a track on
  a wall or a flag changes it by far more than lighting does between two detections).
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
"""Mean landmark residual after alignment, in inter-ocular distances. Measured on the sample
clips' head motion: up to 0.18 (Grace Hopper, glasses) and 0.02 (the astronaut); only a fit
that has lost the face's shape altogether goes over."""
MAX_COLOUR_SHIFT = 32.0
"""Lab distance of the hull's mean colour from the reference's. Measured on the sample clips'
head motion: typically under 14, up to 30 on a one-frame landmark slip on Grace Hopper's
glasses; 53 where a track slid off a motion-blurred face onto the flag. Drift that stays under
it (28 in the same clip) is not caught: the lite realism work owns better tracking."""


@dataclass(frozen=True, slots=True)
class FaceReference:
    points: Points
    colour: np.ndarray[Any, Any]


def hull_colour(image: BgrImage, points: Points) -> np.ndarray[Any, Any]:
    """Mean Lab colour inside the hull of the jaw and brows (the inner face)."""
    h, w = image.shape[:2]
    hull = np.round(np.vstack([points[mesh.JAW], points[mesh.BROWS]])).astype(np.int32)
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


def reference(image: BgrImage, points: Points) -> FaceReference:
    return FaceReference(points.astype(np.float32), hull_colour(image, points))


def shape_residual(ref: Points, new: Points) -> float:
    """Mean distance of ``new`` from ``ref`` after the best similarity alignment, in units of
    the reference's inter-ocular distance."""
    matrix = align.similarity(new.astype(np.float64), ref.astype(np.float64))
    moved = new @ matrix[:, :2].T + matrix[:, 2]
    iod = max(1e-6, mesh.inter_ocular(ref))
    return float(np.mean(np.linalg.norm(moved - ref, axis=1)) / iod)


def still_the_face(ref: FaceReference, image: BgrImage, new: Points) -> bool:
    if shape_residual(ref.points, new) > MAX_SHAPE_RESIDUAL:
        return False
    shift = float(np.linalg.norm(hull_colour(image, new) - ref.colour))
    return shift <= MAX_COLOUR_SHIFT
