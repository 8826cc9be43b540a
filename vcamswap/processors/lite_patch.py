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

FEATHER = 0.10
"""The paste mask rises over this fraction of the face's width from its outline."""
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
    alpha = (shaped * maps.inside * np.maximum(skin, keep)).astype(np.float32)
    weight = (maps.inside * skin).astype(np.float32)
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
