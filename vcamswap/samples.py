"""Built-in sample material: public-domain portraits that ship inside PyPI packages (NASA's
astronaut photo in scikit-image, Grace Hopper in matplotlib), read from site-packages, never
copied into this repository; and a short clip animated from one of them."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vcamswap.errors import DeviceError
from vcamswap.types import BgrImage

_PHOTOS = {
    "astronaut": ("skimage", "data/astronaut.png", "scikit-image"),
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "matplotlib"),
}


def sample_photo_path(name: str) -> Path:
    """Path of a packaged sample photo; DeviceError naming the package to install."""
    package, relative, dist = _PHOTOS[name]
    spec = importlib.util.find_spec(package)
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / relative
        if path.is_file():
            return path
    raise DeviceError(
        f"sample photo {name!r} needs the {dist} package: pip install 'vcamswap[demo]'"
    )


def sample_photo(name: str) -> BgrImage:
    image = cv2.imread(str(sample_photo_path(name)), cv2.IMREAD_COLOR)
    if image is None:
        raise DeviceError(f"sample photo {name!r} could not be decoded")
    return np.ascontiguousarray(image)


def animation_matrix(
    photo_hw: tuple[int, int], index: int, count: int, size: tuple[int, int]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The photo -> frame affine matrix of frame ``index`` of ``animate`` (where a point of the
    photo lands in that frame)."""
    width, height = size
    phase = 2 * math.pi * index / count
    h, w = photo_hw
    scale = min(width / w, height / h) * (1.0 + 0.06 * math.sin(phase))
    angle = 6.0 * math.sin(phase * 2)
    matrix: np.ndarray[Any, np.dtype[np.float64]] = cv2.getRotationMatrix2D(
        (w / 2, h * 0.45), angle, scale
    )
    matrix[0, 2] += width / 2 - w / 2 + 0.04 * width * math.sin(phase)
    matrix[1, 2] += height / 2 - h * 0.45 + 0.03 * height * math.cos(phase)
    return matrix


def animate(photo: BgrImage, index: int, count: int, size: tuple[int, int]) -> BgrImage:
    """Frame ``index`` of a small head-motion loop over ``photo``: a slow nod, turn and zoom."""
    width, height = size
    matrix = animation_matrix(photo.shape[:2], index, count, size)
    frame: BgrImage = cv2.warpAffine(
        photo, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return frame


def sample_clip(
    cache_dir: Path,
    name: str,
    size: tuple[int, int] = (640, 480),
    frames: int = 90,
    fps: float = 30.0,
) -> Path:
    """An mp4 of sample photo ``name`` with gentle head motion, made once and cached."""
    path = cache_dir / "samples" / f"{name}_{size[0]}x{size[1]}_{frames}.mp4"
    if path.is_file():
        return path
    from vcamswap.devices.sinks import RecordingSink

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part.mp4")
    photo = sample_photo(name)
    sink = RecordingSink(partial, fps=fps, crf=18)
    sink.open()
    try:
        for index in range(frames):
            sink.send(animate(photo, index, frames, size))
    finally:
        sink.close()
    partial.replace(path)
    return path
