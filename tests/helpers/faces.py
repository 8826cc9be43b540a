"""Face identity for judging outputs: dlib's HOG detector, 68 landmarks and ResNet descriptor
(the descriptor is not part of the lite engine's swap), and package-shipped photos."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vcamswap.inference.landmarks import DlibLandmarker
from vcamswap.types import BgrImage


def package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / relative


def _faces(image: BgrImage, checker: DlibLandmarker) -> list[Any]:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    boxes = checker.detect(gray, 1)
    return sorted(boxes, key=lambda b: (b.left, b.top))


@functools.cache
def _checker() -> DlibLandmarker:
    """One loaded set of dlib models for every judgement (loading takes about half a second)."""
    return DlibLandmarker()


def descriptor_of(image: BgrImage, index: int | None = None) -> np.ndarray[Any, Any] | None:
    """The 128-d descriptor of the largest face (or face ``index`` left to right), or None."""
    checker = _checker()
    boxes = _faces(image, checker)
    if not boxes:
        return None
    box = boxes[index] if index is not None else max(boxes, key=lambda b: b.area)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return checker.descriptor(image, checker.landmarks(gray, box))


def identity_of(path: Path, index: int | None = None) -> np.ndarray[Any, Any]:
    image = cv2.imread(str(path))
    found = descriptor_of(image, index)
    assert found is not None, f"no face in {path}"
    return found


def crop_face(image: BgrImage, index: int) -> BgrImage:
    """Face ``index`` (left to right) of a group photo with a generous margin."""
    box = _faces(image, _checker())[index]
    h, w = image.shape[:2]
    mx, my = box.width * 0.8, box.height * 0.9
    x0, y0 = max(0, int(box.left - mx)), max(0, int(box.top - my))
    x1, y1 = min(w, int(box.right + mx)), min(h, int(box.bottom + my * 0.8))
    crop: BgrImage = cv2.resize(
        image[y0:y1, x0:x1], None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC
    )
    return crop
