"""Model-input geometry: 5-point similarity fits to a model's template, aligned crops, and the
NCHW blobs in and out of a model. Putting a crop back into the frame is compositing's job."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from vcamswap.ports import Matrix
from vcamswap.types import BgrImage

__all__ = ["Matrix", "crop", "estimate_norm", "from_blob", "similarity", "template", "to_blob"]


# insightface arcface_dst, pixels of a 112 crop; order: left eye, right eye, nose, mouth corners.
ARCFACE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)
FFHQ_512 = (
    np.array(
        [
            [0.37691676, 0.46864664],
            [0.62285697, 0.46912813],
            [0.50123859, 0.61331904],
            [0.39308822, 0.72541100],
            [0.61150205, 0.72490465],
        ],
        dtype=np.float64,
    )
    * 512.0
)


# The older arcface layout (insightface's v1 points) that GHOST was trained with, per 112 px.
ARCFACE_112_V1 = np.array(
    [
        [39.7300, 51.1380],
        [72.2700, 51.1380],
        [56.0000, 68.4930],
        [42.4630, 87.0100],
        [69.5370, 87.0100],
    ],
    dtype=np.float64,
)


def template(name: str, size: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Destination points for a crop of ``size`` pixels. arcface at 112 multiples scales the
    112 template; at 128 multiples it scales by size/128 and shifts x by 8 (insightface)."""
    if name in ("arcface_112", "arcface_128"):
        if size % 112 == 0:
            return ARCFACE_112 * (size / 112.0)
        ratio = size / 128.0
        points = ARCFACE_112 * ratio
        points[:, 0] += 8.0 * ratio
        return points
    if name == "ffhq_512":
        return FFHQ_512 * (size / 512.0)
    if name == "arcface_112_v1":
        return ARCFACE_112_V1 * (size / 112.0)
    raise ValueError(f"unknown alignment template {name!r}")


def similarity(src: np.ndarray[Any, Any], dst: np.ndarray[Any, Any]) -> Matrix:
    """Least-squares similarity (rotation, uniform scale, translation) mapping ``src`` onto
    ``dst``; returns the 2x3 matrix. Umeyama's (1991) solution, in its closed 2-D form: with
    points as complex numbers, scale * e^(i angle) = sum(conj(s) d) / sum(|s|^2) over the
    centred points: the same matrix as his SVD (reflections included, to 1e-13) in about 60%
    of the time; it runs for every face of every frame."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    sx, sy = (src - src_mean).T
    dx, dy = (dst - dst_mean).T
    variance = float((sx * sx + sy * sy).sum())
    if variance > 0:
        a = float((sx * dx + sy * dy).sum()) / variance
        b = float((sx * dy - sy * dx).sum()) / variance
    else:
        a, b = 1.0, 0.0
    linear = np.array([[a, -b], [b, a]])
    matrix = np.zeros((2, 3))
    matrix[:, :2] = linear
    matrix[:, 2] = dst_mean - linear @ src_mean
    return matrix


def estimate_norm(kps: np.ndarray[Any, Any], size: int, template_name: str) -> Matrix:
    return similarity(kps, template(template_name, size))


def crop(image: BgrImage, matrix: Matrix, size: int) -> BgrImage:
    """The aligned ``size`` x ``size`` crop (bilinear, black outside the frame)."""
    out: BgrImage = cv2.warpAffine(image, matrix, (size, size), borderValue=0.0)
    return out


def to_blob(
    crops: list[BgrImage], mean: float, std: float, dtype: type[np.floating[Any]] = np.float32
) -> np.ndarray[Any, Any]:
    """N aligned BGR crops -> NCHW RGB ``(x - mean) / std`` (one OpenCV pass)."""
    h, w = crops[0].shape[:2]
    blob: np.ndarray[Any, Any] = cv2.dnn.blobFromImages(
        crops, 1.0 / std, (w, h), (mean, mean, mean), swapRB=True
    )
    return blob if dtype == np.float32 else blob.astype(dtype)


def from_blob(blob: np.ndarray[Any, Any], low: float, high: float) -> list[BgrImage]:
    """NCHW RGB in [low, high] -> N BGR uint8 crops."""
    scaled = (np.clip(blob.astype(np.float32), low, high) - low) / (high - low) * 255.0
    images = scaled.transpose(0, 2, 3, 1)[..., ::-1]
    return [np.ascontiguousarray(np.clip(img + 0.5, 0, 255).astype(np.uint8)) for img in images]
