"""The lite engine's per-face patch: everything of a face's paste that depends only on where
its landmarks are and on the source photo (the warp maps, the warped source, the source's skin
map, the paste mask). It is kept on the face's track and reused while the landmarks stay within
``STILL_PX`` of the ones it was built for: a face held still keeps exactly the same geometry
from frame to frame (no sub-pixel shimmer), and the frame pays only for what depends on the
camera's pixels (sharpness, light, the blend)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vcamswap.compositing.facemask import face_alpha, feature_hull
from vcamswap.processors import mesh
from vcamswap.processors.lite_source import SourceMesh
from vcamswap.types import BgrImage, Points

FloatImage = np.ndarray[Any, np.dtype[np.float32]]

FEATHER = 0.13
"""The paste mask rises over this fraction of the face's width from its outline."""
TURNED_COVERAGE = 0.9
"""Below this ``mesh.coverage`` the head is turned and its folds are left to the camera."""
FOLD_REACH = 0.04
"""The fade from a folded triangle (kept the camera's) to the pasted face, as a fraction of
the face's size."""
SKIN_SOFTEN = 0.06
"""The source's skin map is blurred over this fraction of the face: where it cuts out hair or
background, the paste fades out over a band instead of a line (the seam measure)."""
STILL_PX = 0.35
"""Landmarks that moved less than this (pixels, the largest of the 68) since the patch was
built reuse it."""


@dataclass(frozen=True, slots=True)
class FacePatch:
    points: Points
    """The landmarks (at the working scale) the patch was built for."""
    source: SourceMesh
    mouth_mask: bool
    frame_size: tuple[int, int]
    left: int
    top: int
    warped: BgrImage
    """The source's texture on this face's mesh, over the patch box."""
    alpha: FloatImage
    """The paste mask (shape, holes, the source's skin), before opacity."""
    weight: FloatImage
    """Where both show skin: the pixels colour and sharpness are matched over."""
    face_size: float

    def fits(
        self, source: SourceMesh, points: Points, mouth_mask: bool, frame_size: tuple[int, int]
    ) -> bool:
        return (
            self.source is source
            and self.mouth_mask == mouth_mask
            and self.frame_size == frame_size
            and self.points.shape == points.shape
            and float(np.abs(self.points - points).max()) < STILL_PX
        )


def soften(image: FloatImage, sigma: float) -> FloatImage:
    """A wide Gaussian blur taken at a quarter of the size (a smooth map loses nothing)."""
    h, w = image.shape[:2]
    if sigma < 4.0 or h < 16 or w < 16:
        direct: FloatImage = cv2.GaussianBlur(image, (0, 0), max(sigma, 0.5))
        return direct
    small = cv2.resize(image, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), sigma / 4.0)
    result: FloatImage = cv2.resize(blurred, (w, h), interpolation=cv2.INTER_LINEAR)
    return result


def folds_shown(
    source: SourceMesh, dst: Points, index: np.ndarray[Any, np.dtype[np.int32]], face_size: float
) -> FloatImage | np.float32:
    """Per pixel, how much of the warp shows (``mesh.fold_weights`` of its triangle) on a
    turned head (a triangle flipped over, or ``mesh.coverage`` below ``TURNED_COVERAGE``):
    the far cheek's folded triangles keep the camera's pixels, faded in over ``FOLD_REACH`` of
    the face so no triangle edge shows. 1 everywhere for a face the mesh carries whole (the
    thin triangles an expression squeezes at the mouth and the temples are not folds)."""
    ratios = mesh.area_ratios(source.points, dst, source.triangles)
    weights = mesh.ratio_weights(ratios)
    flipped = bool((ratios < 0.0).any())
    if not flipped and mesh.shown_share(weights, source.points, source.triangles) >= (
        TURNED_COVERAGE
    ):
        whole: np.float32 = np.float32(1.0)
        return whole
    table = np.concatenate([np.ones(1, np.float32), weights])
    shown: FloatImage = np.take(table, index)
    reach = max(3, int(face_size * FOLD_REACH) | 1)
    shown = cv2.erode(shown, np.ones((reach, reach), np.uint8))
    blurred: FloatImage = cv2.GaussianBlur(shown, (0, 0), reach / 2.0)
    return blurred


def face_patch(
    previous: FacePatch | None,
    source: SourceMesh,
    points: Points,
    mouth_mask: bool,
    frame_size: tuple[int, int],
) -> FacePatch | None:
    """``previous`` when it still fits, else a new patch (None when the face is off the
    frame). ``frame_size`` (width, height) at the working scale."""
    if previous is not None and previous.fits(source, points, mouth_mask, frame_size):
        return previous
    dst = mesh.with_forehead(points)
    maps = mesh.warp_maps(source.points, dst, source.triangles, frame_size)
    if maps is None:
        return None
    warped = cv2.remap(
        source.texture, maps.map_x, maps.map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    skin = cv2.remap(
        source.skin, maps.map_x, maps.map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    ).astype(np.float32) * np.float32(1.0 / 255.0)
    shape = maps.inside.shape
    local = dst - np.array([maps.left, maps.top], dtype=np.float32)
    face_size = mesh.inter_ocular(points) * 2.2
    holes = [mesh.LEFT_EYE, mesh.RIGHT_EYE, mesh.OUTER_LIPS if mouth_mask else mesh.INNER_MOUTH]
    shaped = face_alpha(
        shape,
        mesh.outline(local),
        local[mesh.BROWS].mean(axis=0),
        local[68:78].mean(axis=0),
        feather=face_size * FEATHER,
        holes=[local[part] for part in holes],
    )
    keep = feature_hull(shape, mesh.features(local), face_size * 0.1)
    skin = soften(skin, face_size * SKIN_SOFTEN)
    shown = maps.inside * folds_shown(source, dst, maps.index, face_size)
    alpha = (shaped * shown * np.maximum(skin, keep)).astype(np.float32)
    weight = (shown * skin).astype(np.float32)
    return FacePatch(
        points.copy(),
        source,
        mouth_mask,
        frame_size,
        maps.left,
        maps.top,
        warped,
        alpha,
        weight,
        face_size,
    )
