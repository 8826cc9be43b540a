"""Compositing shared by both engines: masks, colour transfer, sharpening, blending."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

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


def transfer_color(source: BgrImage, target: BgrImage, mask: Mask) -> BgrImage:
    """Shift ``source``'s LAB mean and spread inside ``mask`` to ``target``'s (Reinhard).
    The spread ratio is clamped so a dark or flat target cannot blow the face out."""
    if cv2.countNonZero(mask) < 16:
        return source
    src_lab = cv2.cvtColor(source, cv2.COLOR_BGR2LAB)
    dst_lab = cv2.cvtColor(target, cv2.COLOR_BGR2LAB)
    mu_s, sd_s = (v.reshape(3) for v in cv2.meanStdDev(src_lab, mask=mask))
    mu_t, sd_t = (v.reshape(3) for v in cv2.meanStdDev(dst_lab, mask=mask))
    ratio = np.clip((sd_t + 1e-3) / (sd_s + 1e-3), 0.5, 2.0).astype(np.float32)
    out = src_lab.astype(np.float32) * ratio + (mu_t - mu_s * ratio).astype(np.float32)
    result: BgrImage = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
    return result


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
