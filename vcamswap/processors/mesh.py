"""Pure geometry of the lite engine: the face mesh and its piecewise-affine warp."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vcamswap.i18n import _
from vcamswap.types import Points

FloatImage = np.ndarray[Any, np.dtype[np.float32]]

JAW = slice(0, 17)
BROWS = slice(17, 27)
LEFT_EYE = slice(36, 42)
RIGHT_EYE = slice(42, 48)
OUTER_LIPS = slice(48, 60)
INNER_MOUTH = slice(60, 68)
FOREHEAD_RISE = 0.22  # brow-to-forehead height as a fraction of nose-bridge-to-chin


def with_forehead(landmarks: Points) -> Points:
    """68 landmarks plus 10 forehead points, raised from the brow line along the face's up axis
    (chin to nose bridge), so the mesh covers the forehead as well."""
    up = landmarks[27] - landmarks[8]
    length = float(np.linalg.norm(up))
    if length < 1e-3:
        return np.vstack([landmarks, landmarks[BROWS]]).astype(np.float32)
    raised = landmarks[BROWS] + up * FOREHEAD_RISE
    return np.vstack([landmarks, raised]).astype(np.float32)


NOSE_BRIDGE = 27
NOSE_TIP = 30
CHIN = 8
CHEEK_SAMPLES = ((40, 31, 48, 4, 2), (47, 35, 54, 12, 14), (27, 31, 33, 35))
"""Cheeks and nose (landmark indices): where a photo's skin colour is sampled."""


def skin_samples(landmarks: Points) -> list[Points]:
    """The cheek and nose polygons, shrunk a fifth towards their centres (clear of edges)."""
    out = []
    for ids in CHEEK_SAMPLES:
        poly = landmarks[list(ids)]
        centre = poly.mean(axis=0)
        out.append((centre + 0.8 * (poly - centre)).astype(np.float32))
    return out


def features(landmarks: Points) -> Points:
    """Brows, eyes, nose and mouth: the points whose hull is always the face."""
    return landmarks[17:68]


def outline(points: Points) -> Points:
    """The mesh's outer polygon (78 points): the jaw, then the forehead from right to left."""
    return np.vstack([points[JAW], points[68:78][::-1]]).astype(np.float32)


def yaw(landmarks: Points) -> float:
    """How far the head is turned: the nose tip's position between the jaw's ends along the
    face's horizontal axis, -1 (at the image-left jaw end) .. 0 (frontal) .. 1."""
    up = landmarks[NOSE_BRIDGE] - landmarks[CHIN]
    across = np.array([up[1], -up[0]], np.float64)
    norm = float(np.linalg.norm(across))
    if norm < 1e-3:
        return 0.0
    across /= norm
    left, right = float(landmarks[0] @ across), float(landmarks[16] @ across)
    if abs(right - left) < 1e-3:
        return 0.0
    t = (float(landmarks[NOSE_TIP] @ across) - left) / (right - left)
    return float(np.clip(2.0 * t - 1.0, -1.0, 1.0))


MOUTH_OPEN = 0.18
"""Inner-lip gap over mouth width above which a source photo's mouth counts as open."""
SMILE_WIDTH = 1.05
"""Mouth width over the eyes' distance above which a source photo's smile counts as broad."""


def expression_notes(landmarks: Points) -> list[str]:
    """What in a source photo's expression will show on every frame: an open mouth or a broad
    smile is pasted over whatever the person in front of the camera does (the lite engine warps
    one photo; the mouth mask keeps the live mouth)."""
    width = float(np.linalg.norm(landmarks[54] - landmarks[48]))
    gap = float(np.linalg.norm(landmarks[[61, 62, 63]] - landmarks[[67, 66, 65]], axis=1).mean())
    notes = []
    if width > 1.0 and gap / width > MOUTH_OPEN:
        notes.append(_("the mouth is open"))
    if width / max(inter_ocular(landmarks), 1.0) > SMILE_WIDTH:
        notes.append(_("the smile is broad"))
    return notes


def inter_ocular(landmarks: Points) -> float:
    """Distance between the eye centres: the face's scale."""
    left = landmarks[LEFT_EYE].mean(axis=0)
    right = landmarks[RIGHT_EYE].mean(axis=0)
    return float(np.linalg.norm(right - left))


def triangulate(points: Points) -> np.ndarray[Any, np.dtype[np.int32]]:
    """Delaunay triangles over ``points`` as an Nx3 array of point indices."""
    x0, y0 = np.floor(points.min(axis=0)) - 2
    x1, y1 = np.ceil(points.max(axis=0)) + 2
    subdiv = cv2.Subdiv2D((int(x0), int(y0), int(x1 - x0) + 1, int(y1 - y0) + 1))
    for x, y in points:
        subdiv.insert((float(x), float(y)))
    lookup = {(round(float(x), 2), round(float(y), 2)): i for i, (x, y) in enumerate(points)}
    triangles = []
    for t in subdiv.getTriangleList():
        corners = [(round(float(t[k]), 2), round(float(t[k + 1]), 2)) for k in (0, 2, 4)]
        ids = [lookup.get(c) for c in corners]
        if None not in ids and len(set(ids)) == 3:
            triangles.append(ids)
    return np.array(triangles, dtype=np.int32).reshape(-1, 3)


@dataclass(frozen=True, slots=True)
class WarpMaps:
    """Where each pixel of a target box samples the source texture; -1 outside the mesh."""

    left: int
    top: int
    map_x: np.ndarray[Any, np.dtype[np.float32]]
    map_y: np.ndarray[Any, np.dtype[np.float32]]
    index: np.ndarray[Any, np.dtype[np.int32]]
    """Each pixel's triangle, 1-based (0 outside the mesh)."""

    @property
    def inside(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        inside: np.ndarray[Any, np.dtype[np.bool_]] = self.index > 0
        return inside


def triangle_affines(
    src: Points, dst: Points, triangles: np.ndarray[Any, np.dtype[np.int32]]
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Per triangle, the affine map from its ``dst`` corners to its ``src`` corners, [T, 2, 3]:
    all triangles' 3x3 systems solved in one call (a degenerate triangle gets a least-squares
    fit instead of failing)."""
    d = dst[triangles].astype(np.float64)
    s = src[triangles].astype(np.float64)
    a = np.concatenate([d, np.ones((len(triangles), 3, 1))], axis=2)
    try:
        x = np.linalg.solve(a, s)
    except np.linalg.LinAlgError:
        x = np.stack([np.linalg.lstsq(ai, si, rcond=None)[0] for ai, si in zip(a, s, strict=True)])
    result: np.ndarray[Any, np.dtype[np.float32]] = np.transpose(x, (0, 2, 1)).astype(np.float32)
    return result


def warp_maps(
    src: Points,
    dst: Points,
    triangles: np.ndarray[Any, np.dtype[np.int32]],
    frame_size: tuple[int, int],
) -> WarpMaps | None:
    """Piecewise-affine maps from the target mesh ``dst`` back to the source mesh ``src``,
    computed only over the target's bounding box clipped to the frame. Each pixel gets its
    triangle's number (1-based, 0 outside: one ``fillConvexPoly`` each), then its affine's six
    coefficients by table lookup, so the per-pixel work is whole-array arithmetic."""
    width, height = frame_size
    left = max(0, int(np.floor(dst[:, 0].min())))
    top = max(0, int(np.floor(dst[:, 1].min())))
    right = min(width, int(np.ceil(dst[:, 0].max())) + 1)
    bottom = min(height, int(np.ceil(dst[:, 1].max())) + 1)
    if right - left < 4 or bottom - top < 4:
        return None
    index = np.zeros((bottom - top, right - left), dtype=np.int32)
    local = dst.astype(np.float32) - np.array([left, top], dtype=np.float32)
    corners = np.round(local).astype(np.int32)
    for i, tri in enumerate(triangles):
        cv2.fillConvexPoly(index, corners[tri], i + 1)
    table = np.empty((len(triangles) + 1, 6), dtype=np.float32)
    table[0] = (0.0, 0.0, -1.0, 0.0, 0.0, -1.0)  # outside the mesh: (-1, -1)
    table[1:] = triangle_affines(src, local, triangles).reshape(-1, 6)
    h, w = index.shape
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    a, b, c, d, e, f = (np.take(table[:, k], index) for k in range(6))
    map_x: np.ndarray[Any, np.dtype[np.float32]] = a * xs + b * ys + c
    map_y: np.ndarray[Any, np.dtype[np.float32]] = d * xs + e * ys + f
    return WarpMaps(left, top, map_x, map_y, index)


FOLD_HIDDEN = 0.1
FOLD_SHOWN = 0.3
"""A target triangle whose area shrank below ``FOLD_SHOWN`` of the source's (after fitting
the source onto the target by a similarity) is foreshortened by a head turn past what a flat
mesh can carry: its texture is a smear, and the landmarks there (the far cheek and jaw, which
dlib puts on the visible outline) cross. It is shown less, none at ``FOLD_HIDDEN`` or flipped."""


def signed_areas(
    points: Points, triangles: np.ndarray[Any, np.dtype[np.int32]]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    a, b, c = (points[triangles[:, k]].astype(np.float64) for k in range(3))
    areas: np.ndarray[Any, np.dtype[np.float64]] = 0.5 * (
        (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    )
    return areas


def area_ratios(
    src: Points, dst: Points, triangles: np.ndarray[Any, np.dtype[np.int32]]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Per triangle, its signed area in ``dst`` over its area in ``src`` (the overall scale
    removed): 1 for the same shape, negative where the mesh folded over."""
    a, b = src[:68].astype(np.float64), dst[:68].astype(np.float64)
    ca, cb = a - a.mean(axis=0), b - b.mean(axis=0)
    scale2 = float((cb**2).sum() / max(float((ca**2).sum()), 1e-9))
    source = signed_areas(src, triangles) * scale2
    safe = np.where(np.abs(source) < 1e-9, 1e-9, source)
    ratio: np.ndarray[Any, np.dtype[np.float64]] = signed_areas(dst, triangles) / safe
    return ratio


def fold_weights(
    src: Points, dst: Points, triangles: np.ndarray[Any, np.dtype[np.int32]]
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Per triangle, how much of it the warp can show (0..1, ``FOLD_HIDDEN``..``FOLD_SHOWN``
    of the source's area, scale removed); a flipped triangle (the mesh folded over) is 0."""
    return ratio_weights(area_ratios(src, dst, triangles))


def ratio_weights(
    ratios: np.ndarray[Any, np.dtype[np.float64]],
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """``fold_weights`` from ``area_ratios``."""
    weights: np.ndarray[Any, np.dtype[np.float32]] = np.clip(
        (ratios - FOLD_HIDDEN) / (FOLD_SHOWN - FOLD_HIDDEN), 0.0, 1.0
    ).astype(np.float32)
    return weights


def coverage(src: Points, dst: Points, triangles: np.ndarray[Any, np.dtype[np.int32]]) -> float:
    """The share of the source face's area the warp onto ``dst`` can show (1.0 for a face the
    mesh carries whole; a head turned so far that the far cheek folds under loses that part)."""
    return shown_share(fold_weights(src, dst, triangles), src, triangles)


def shown_share(
    weights: np.ndarray[Any, np.dtype[np.float32]],
    src: Points,
    triangles: np.ndarray[Any, np.dtype[np.int32]],
) -> float:
    """``coverage`` from ``fold_weights``: their mean over the source's triangles, by area."""
    areas = np.abs(signed_areas(src, triangles))
    total = float(areas.sum())
    if total <= 0.0:
        return 0.0
    return float((weights * areas).sum() / total)


FIVE_POINT_TEMPLATE = np.array(
    [[0.3, 0.35], [0.7, 0.35], [0.5, 0.58], [0.34, 0.78], [0.66, 0.78]], dtype=np.float32
)
"""Eye centres, nose tip and mouth corners of an upright face, in units of the aligned crop."""


def five_points(landmarks: Points) -> Points:
    """Eye centres, nose tip and mouth corners from the 68 points."""
    return np.array(
        [
            landmarks[LEFT_EYE].mean(axis=0),
            landmarks[RIGHT_EYE].mean(axis=0),
            landmarks[NOSE_TIP],
            landmarks[48],
            landmarks[54],
        ],
        dtype=np.float32,
    )


def aligned_patch(gray: np.ndarray[Any, Any], landmarks: Points, size: int = 40) -> FloatImage:
    """The face under ``landmarks`` rotated upright and scaled to ``size`` px (a similarity
    fitted to the five points), zero mean and unit norm: two patches' dot product is their
    normalised correlation. A patch of anything the points slid onto (a shoulder, a wall)
    correlates poorly with the face's own patch, whatever the head's tilt. The face is first
    shrunk with area averaging to about the patch's scale: a 4x bilinear warp alone aliases
    so much that two frames of a still face correlated at 0.65."""
    points = five_points(landmarks)
    eye_gap = max(float(np.linalg.norm(points[1] - points[0])), 1.0)
    shrink = min(1.0, size * 0.5 / eye_gap)
    h, w = gray.shape[:2]
    margin = eye_gap * 1.5
    x0, y0 = (max(0, int(v - margin)) for v in points.min(axis=0))
    x1, y1 = min(w, int(points[:, 0].max() + margin)), min(h, int(points[:, 1].max() + margin))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return np.zeros((size, size), np.float32)
    crop = gray[y0:y1, x0:x1]
    if shrink < 1.0:
        crop = cv2.resize(crop, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    local = (points - np.array([x0, y0], np.float32)) * np.float32(shrink)
    matrix, _inliers = cv2.estimateAffinePartial2D(
        local, FIVE_POINT_TEMPLATE * size, method=cv2.LMEDS
    )
    if matrix is None:
        return np.zeros((size, size), np.float32)
    patch = cv2.warpAffine(crop, matrix, (size, size), flags=cv2.INTER_LINEAR)
    patch = patch.astype(np.float32)
    patch -= patch.mean()
    norm = float(np.linalg.norm(patch))
    out: FloatImage = patch / norm if norm > 1e-3 else np.zeros_like(patch)
    return out
