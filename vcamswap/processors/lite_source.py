"""The lite engine's source face: a texture crop and its 78-point mesh, built from one photo
with dlib's landmarks, stored by the face library and cached per file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vcamswap.compositing.facemask import GrayMap, skin_map
from vcamswap.errors import FaceError
from vcamswap.inference.landmarks import DlibLandmarker
from vcamswap.processors import mesh
from vcamswap.processors.faces import SourceFaceCache
from vcamswap.types import BgrImage, Points


@dataclass(frozen=True, slots=True)
class SourceMesh:
    """A source face ready to warp: texture crop, 78 mesh points in crop pixels, triangles, and
    where the texture shows skin (0..255, see ``compositing.facemask.skin_map``)."""

    texture: BgrImage
    points: Points
    triangles: np.ndarray[Any, np.dtype[np.int32]]
    skin: GrayMap


def source_skin(texture: BgrImage, points: Points) -> GrayMap:
    return skin_map(texture, mesh.skin_samples(points))


def build_source_mesh(landmarker: DlibLandmarker, image: BgrImage, name: str) -> SourceMesh:
    """Find the largest face in ``image`` and build its mesh; FaceError if there is none."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    boxes = landmarker.detect(gray, upsample=1)
    if not boxes:
        raise FaceError(
            f"no face found in {name}: use a clear, frontal, well-lit photo with "
            "the face at least 80 pixels wide"
        )
    points = mesh.with_forehead(landmarker.landmarks(gray, boxes[0]))
    margin = 0.15 * float(np.ptp(points[:, 0]))
    h, w = image.shape[:2]
    x0 = max(0, int(points[:, 0].min() - margin))
    y0 = max(0, int(points[:, 1].min() - margin))
    x1 = min(w, int(points[:, 0].max() + margin) + 1)
    y1 = min(h, int(points[:, 1].max() + margin) + 1)
    local = (points - np.array([x0, y0], dtype=np.float32)).astype(np.float32)
    texture = np.ascontiguousarray(image[y0:y1, x0:x1])
    return SourceMesh(texture, local, mesh.triangulate(local), source_skin(texture, local))


def save_mesh(path: Path, mesh: SourceMesh) -> None:
    """Store a source mesh (the face library's cache, keyed by the photo's sha256)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.npz")
    np.savez_compressed(
        tmp, texture=mesh.texture, points=mesh.points, triangles=mesh.triangles, skin=mesh.skin
    )
    tmp.replace(path)


def load_mesh(path: Path) -> SourceMesh | None:
    """A stored mesh, or None when absent or unreadable (it is then rebuilt)."""
    try:
        with np.load(path) as data:
            texture = np.ascontiguousarray(data["texture"])
            points = data["points"].astype(np.float32)
            # meshes stored before the skin map existed get one now
            skin = data["skin"] if "skin" in data.files else source_skin(texture, points)
            return SourceMesh(texture, points, data["triangles"].astype(np.int32), skin)
    except (OSError, KeyError, ValueError):
        return None


class LiteFaceCache(SourceFaceCache[SourceMesh]):
    """Source meshes by face file; ``stored`` is the face library's mesh folder."""

    def __init__(
        self,
        resolve: Callable[[str | None], Path],
        build: Callable[[BgrImage, str, str], SourceMesh],
        stored: Path | None,
    ) -> None:
        super().__init__(resolve, build)
        self.stored = stored


def lite_face_cache(
    landmarker: DlibLandmarker, resolve: Callable[[str | None], Path], stored: Path | None = None
) -> LiteFaceCache:
    """A cache that builds lite meshes for face names resolved to image files; ``stored`` is
    the face library's cache folder, whose meshes (by sha256) are used when present."""

    def build(image: BgrImage, name: str, digest: str) -> SourceMesh:
        if stored is not None:
            mesh = load_mesh(stored / f"{digest}.lite.npz")
            if mesh is not None:
                return mesh
        return build_source_mesh(landmarker, image, name)

    return LiteFaceCache(resolve, build, stored)
