"""Compositing on the host (OpenCV), shared by both engines: masks, colour transfer,
sharpening, alpha blending and the paste-back of an aligned crop into the frame."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from vcamswap.ports import Matrix
from vcamswap.types import BgrImage

FloatImage = np.ndarray[Any, np.dtype[np.float32]]
Mask = np.ndarray[Any, np.dtype[np.uint8]]


def feather(
    mask: Mask, face_size: float, erode_frac: float = 0.04, blur_frac: float = 0.08
) -> FloatImage:
    """A soft 0..1 alpha from a hard 0/255 mask: eroded so the seam sits inside the face, then
    blurred in proportion to the face size."""
    erode = max(1, int(face_size * erode_frac))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode + 1, 2 * erode + 1))
    hard = cv2.erode(mask, kernel)
    blur = max(3, int(face_size * blur_frac) | 1)
    soft: FloatImage = cv2.GaussianBlur(hard, (blur, blur), 0).astype(np.float32) / 255.0
    return soft


ColorStats = np.ndarray[Any, np.dtype[np.float64]]
"""[4, 3]: source mean, source spread, target mean, target spread (Lab, per channel)."""


def transfer_color(
    source: BgrImage,
    target: BgrImage,
    mask: Mask,
    previous: ColorStats | None = None,
    keep: float = 0.0,
) -> tuple[BgrImage, ColorStats | None]:
    """Shift ``source``'s LAB mean and spread inside ``mask`` to ``target``'s (Reinhard).
    The spread ratio is clamped so a dark or flat target cannot blow the face out. With
    ``previous`` statistics (this face's last frame), ``keep`` of the target's are kept: the
    face's colour does not pump with every frame's noise and mask edge. Returns the image
    and the statistics used (None when the mask was too small to measure)."""
    if cv2.countNonZero(mask) < 16:
        return source, None
    src_lab = cv2.cvtColor(source, cv2.COLOR_BGR2LAB)
    dst_lab = cv2.cvtColor(target, cv2.COLOR_BGR2LAB)
    stats: ColorStats = np.stack(
        [v.reshape(3) for pair in (src_lab, dst_lab) for v in cv2.meanStdDev(pair, mask=mask)]
    )
    if previous is not None and keep > 0:  # the target's only: the source is this frame's
        stats[2:] = keep * previous[2:] + (1.0 - keep) * stats[2:]
    mu_s, sd_s, mu_t, sd_t = stats
    ratio = np.clip((sd_t + 1e-3) / (sd_s + 1e-3), 0.5, 2.0).astype(np.float32)
    out = src_lab.astype(np.float32) * ratio + (mu_t - mu_s * ratio).astype(np.float32)
    result: BgrImage = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
    return result, stats


def sharpen(image: BgrImage, amount: float) -> BgrImage:
    """Unsharp mask; ``amount`` 0..1."""
    if amount <= 0:
        return image
    blurred = cv2.GaussianBlur(image, (0, 0), 1.5)
    result: BgrImage = cv2.addWeighted(image, 1.0 + amount, blurred, -amount, 0)
    return result


def blend_into(frame: BgrImage, patch: BgrImage, alpha: FloatImage, left: int, top: int) -> None:
    """Alpha-blend ``patch`` into ``frame`` (which the caller owns) at (left, top)."""
    h, w = alpha.shape
    region = frame[top : top + h, left : left + w]
    region[:] = cv2.blendLinear(patch, region, alpha, 1.0 - alpha)


def feather_mask(size: int, border: float = 0.1, blur: float = 0.08) -> FloatImage:
    """A crop-sized alpha: 1 inside, fading to 0 over the outer ``border`` of the crop."""
    mask = np.zeros((size, size), dtype=np.float32)
    inset = max(1, int(size * border))
    mask[inset : size - inset, inset : size - inset] = 1.0
    k = max(3, int(size * blur) | 1)
    blurred: FloatImage = cv2.GaussianBlur(mask, (k, k), 0)
    return blurred


def paste_box(
    matrix: Matrix, size: int, frame_w: int, frame_h: int, inset: float = 0.0
) -> tuple[int, int, int, int] | None:
    """The frame pixels the crop lands on after the inverse warp: (x0, y0, x1, y1), clipped.
    ``inset`` (pixels of the crop) leaves out a border where the paste mask is zero."""
    inverse = cv2.invertAffineTransform(matrix)
    lo, hi = inset, size - inset
    corners = np.array([[lo, lo, 1], [hi, lo, 1], [lo, hi, 1], [hi, hi, 1]], np.float64)
    mapped = corners @ inverse.T
    x0 = max(0, int(np.floor(mapped[:, 0].min())))
    y0 = max(0, int(np.floor(mapped[:, 1].min())))
    x1 = min(frame_w, int(np.ceil(mapped[:, 0].max())) + 1)
    y1 = min(frame_h, int(np.ceil(mapped[:, 1].max())) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


def zero_border(alpha: FloatImage) -> int:
    """How many pixels along the crop's edge the mask is zero (paste-back can skip them)."""
    rows = np.nonzero(alpha.max(axis=1) > 0)[0]
    return int(rows[0]) if rows.size else 0


def paste_back(
    frame: BgrImage, face: BgrImage, matrix: Matrix, alpha: FloatImage, inset: int = 0
) -> None:
    """Blend the aligned ``face`` crop back into ``frame`` (owned by the caller) through the
    inverse of ``matrix``, touching only the face's bounding box (less ``inset``, a border
    where ``alpha`` is zero). Face and mask are warped together as one 4-channel image."""
    size = face.shape[0]
    box = paste_box(matrix, size, frame.shape[1], frame.shape[0], max(0, inset - 1))
    if box is None:
        return
    x0, y0, x1, y1 = box
    inverse = cv2.invertAffineTransform(matrix)
    inverse[:, 2] -= (x0, y0)
    w, h = x1 - x0, y1 - y0
    rgba = np.dstack([face, np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)])
    warped4 = cv2.warpAffine(
        rgba, inverse, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    warped = np.ascontiguousarray(warped4[:, :, :3])
    a = warped4[:, :, 3].astype(np.float32) * np.float32(1.0 / 255.0)
    region = frame[y0:y1, x0:x1]
    # One OpenCV pass (per-pixel weights, rounding, saturation) instead of five numpy passes.
    region[:] = cv2.blendLinear(warped, region, a, 1.0 - a)


def mouth_mask(kps: np.ndarray[Any, Any], matrix: Matrix, size: int) -> FloatImage:
    """A soft ellipse over the target's mouth in crop coordinates (1 = keep the target)."""
    pts = (np.c_[kps, np.ones(5)] @ matrix.T)[3:5]
    centre = pts.mean(axis=0) + np.array([0.0, size * 0.02])
    half_w = float(np.linalg.norm(pts[1] - pts[0])) * 0.7
    mask = np.zeros((size, size), dtype=np.float32)
    cv2.ellipse(
        mask,
        (int(centre[0]), int(centre[1])),
        (int(half_w), int(half_w * 0.45)),
        0.0,
        0.0,
        360.0,
        1.0,
        -1,
    )
    k = max(3, int(size * 0.06) | 1)
    blurred: FloatImage = cv2.GaussianBlur(mask, (k, k), 0)
    return blurred


def face_alpha(
    base: FloatImage,
    kps: np.ndarray[Any, Any],
    matrix: Matrix,
    mouth: bool,
    opacity: float,
    region: FloatImage | None = None,
) -> FloatImage:
    """One face's paste mask: the crop's feather (times the face parser's ``region`` mask),
    less the target's mouth when the mouth mask is on, times the opacity."""
    alpha = base
    if region is not None:
        alpha = (alpha * region).astype(np.float32)
    if mouth:
        alpha = (alpha * (1.0 - mouth_mask(kps, matrix, base.shape[0]))).astype(np.float32)
    if opacity < 1.0:
        alpha = (alpha * opacity).astype(np.float32)
    return alpha
