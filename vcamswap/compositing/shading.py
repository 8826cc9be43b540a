"""Relighting a pasted face: the target's low-frequency colour and shading under the source's
features.

Matching only the mean and spread of colour (Reinhard) leaves the source's own lighting on the
face: a face lit from the left pasted onto one lit from the right looks flat or blotchy, and the
spread ratio exaggerates wrinkles. Here the warped source is multiplied, per channel, by the
ratio of the target's local mean to the source's local mean (both blurred over a fraction of the
face, inside the face mask only, by normalised convolution). Everything coarser than the blur
(skin tone, shading, a colour cast) becomes the target's; everything finer (eyes, brows, mouth,
skin texture) stays the source's. The blurs run at a quarter of the patch's size."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from vcamswap.types import BgrImage

FloatImage = np.ndarray[Any, np.dtype[np.float32]]

RELIGHT_SPAN = 5.0
"""The local means are taken over the face's size divided by this."""
LIMIT = np.array([45.0, 30.0, 30.0], np.float32)
"""The largest change of local mean (Lab L, a, b): a dark beard or a specular highlight in one
image must not blow the other up."""


def _local_mean(image: FloatImage, weight: FloatImage, sigma: float) -> FloatImage:
    """Weighted local mean of ``image`` (HxWxC) where ``weight`` (HxW, 0..1) is positive."""
    blurred = cv2.GaussianBlur(image * weight[:, :, None], (0, 0), sigma)
    norm = cv2.GaussianBlur(weight, (0, 0), sigma)
    mean: FloatImage = blurred / np.maximum(norm, 1e-3)[:, :, None]
    return mean


def _detail_scale(
    warped: BgrImage,
    target: BgrImage,
    weight: FloatImage,
    mean_w: FloatImage,
    mean_t: FloatImage,
) -> float:
    """How much to tone the face's skin detail (grey level around its local mean) down towards
    the target's where the target's skin is smoother (a wrinkled source on a young face):
    0.5..1, never up. ``mean_w``/``mean_t``: the local means in grey, full size."""
    skin = weight > 0.5
    if int(np.count_nonzero(skin)) < 50:
        return 1.0
    grey_w = cv2.cvtColor(warped, cv2.COLOR_BGR2GRAY).astype(np.float32)
    grey_t = cv2.cvtColor(target, cv2.COLOR_BGR2GRAY).astype(np.float32)
    spread_w = float(np.std((grey_w - mean_w)[skin]))
    spread_t = float(np.std((grey_t - mean_t)[skin]))
    return float(np.clip(spread_t / max(spread_w, 1e-3), 0.5, 1.0))


def relight(
    warped: BgrImage,
    target: BgrImage,
    weight: FloatImage,
    face_size: float,
    strength: float = 1.0,
    alpha: FloatImage | None = None,
) -> BgrImage:
    """``warped`` (the source face on the target's mesh) with the target's low-frequency colour
    and shading: the local means of both (blurred over ``1/RELIGHT_SPAN`` of the face, inside
    ``weight``, at a quarter of the size) are compared in CIE Lab, the change (clamped) is
    turned back into a BGR offset on those smooth means and added to every pixel, so the
    detail around the
    local mean (wrinkles, pores, the features) keeps the source's own amplitude (a gain would
    magnify the wrinkles of a dark photo pasted onto a bright face). Only the quarter-size
    fields go through Lab: full-size float Lab conversions cost two thirds of the time and
    changed the face by a few grey levels (BENCHMARKS.md, lite cost). ``weight`` (0..1) marks
    the pixels that show skin in both images; ``strength`` 0..1 blends from no change to the
    full transfer. With the paste mask ``alpha``, the border is matched too
    (``border_offset``), in the same quarter-size offset."""
    h, w = weight.shape
    small = (max(4, w // 4), max(4, h // 4))
    scale = np.float32(1.0 / 255.0)
    warped_small = cv2.resize(warped, small, interpolation=cv2.INTER_AREA).astype(np.float32)
    target_small = cv2.resize(target, small, interpolation=cv2.INTER_AREA).astype(np.float32)
    ws = cv2.cvtColor(warped_small * scale, cv2.COLOR_BGR2LAB)
    ts = cv2.cvtColor(target_small * scale, cv2.COLOR_BGR2LAB)
    ms = cv2.resize(weight.astype(np.float32), small, interpolation=cv2.INTER_AREA)
    if float(ms.sum()) < 4.0:
        return warped
    sigma = max(1.0, face_size / RELIGHT_SPAN / 4.0)
    mt, mw = _local_mean(ts, ms, sigma), _local_mean(ws, ms, sigma)
    change = np.clip(mt - mw, -LIMIT, LIMIT) * np.float32(strength)
    to_255 = np.float32(255.0)
    mean_bgr = cv2.cvtColor(mw, cv2.COLOR_LAB2BGR) * to_255
    moved_bgr = cv2.cvtColor(mw + change, cv2.COLOR_LAB2BGR) * to_255
    full = (w, h)
    offset_small = moved_bgr - mean_bgr
    if alpha is not None:
        alpha_small = cv2.resize(alpha, small, interpolation=cv2.INTER_AREA)
        offset_small = offset_small + border_offset(
            warped_small + offset_small, target_small, alpha_small, face_size / 4.0
        )
    offset = cv2.resize(offset_small, full, interpolation=cv2.INTER_LINEAR)
    out = warped.astype(np.float32)
    # grey is linear in BGR and so is the bilinear resize: the grey means are taken at the
    # quarter size and only their one channel is scaled up
    target_bgr = cv2.cvtColor(mt, cv2.COLOR_LAB2BGR) * to_255
    k = _detail_scale(
        warped,
        target,
        weight,
        cv2.resize(
            cv2.cvtColor(mean_bgr, cv2.COLOR_BGR2GRAY), full, interpolation=cv2.INTER_LINEAR
        ),
        cv2.resize(
            cv2.cvtColor(target_bgr, cv2.COLOR_BGR2GRAY), full, interpolation=cv2.INTER_LINEAR
        ),
    )
    if k < 1.0:
        mean_full = cv2.resize(mean_bgr, full, interpolation=cv2.INTER_LINEAR)
        factor = (1.0 - weight * np.float32(1.0 - k))[:, :, None]
        out = mean_full + (out - mean_full) * factor
    out += offset
    result: BgrImage = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return result


def _edge_energy(gray: FloatImage, where: np.ndarray[Any, np.dtype[np.bool_]]) -> float:
    """Mean Sobel magnitude over ``where``, relative to the mean grey level there: a light's
    brightness scales both, so a dimly lit picture is not taken for a soft one."""
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1)
    level = max(float(gray[where].mean()), 8.0)
    return float(np.sqrt(gx * gx + gy * gy)[where].mean()) / level


SHARPER = 1.25
"""How much sharper than the target the face may stay before it is softened."""
BLURS = (0.6, 1.0, 1.5, 2.2, 3.0)
"""Gaussian sigmas tried, in pixels, when the source is sharper than the target."""


def match_sharpness(warped: BgrImage, target: BgrImage, weight: FloatImage) -> BgrImage:
    """``warped`` blurred to the target's sharpness where the target is softer (a webcam's
    focus, compression, a small face scaled up): a crisp face on a soft picture looks pasted
    however well its colour matches. Edge energy (mean Sobel magnitude over the mean grey
    level) over the skin is compared, so a dim room's lower contrast is not taken for blur (it
    was: a face on a dimly lit target came out smeared); never sharpened (that is the user's
    ``sharpness`` setting)."""
    where = weight > 0.5
    if int(np.count_nonzero(where)) < 50:
        return warped
    gray_w = cv2.cvtColor(warped, cv2.COLOR_BGR2GRAY).astype(np.float32)
    want = _edge_energy(cv2.cvtColor(target, cv2.COLOR_BGR2GRAY).astype(np.float32), where)
    if _edge_energy(gray_w, where) <= want * SHARPER:
        return warped
    best = 0.0
    for sigma in BLURS:
        best = sigma
        if _edge_energy(cv2.GaussianBlur(gray_w, (0, 0), sigma), where) <= want * SHARPER:
            break
    blurred: BgrImage = cv2.GaussianBlur(warped, (0, 0), best)
    return blurred


BORDER_REACH = 0.1
"""How far (a fraction of the face's size) the border's colour difference is spread inward."""
BORDER_GAIN = 8.0
BORDER_LIMIT = 40.0
"""The largest correction (grey levels) at the border: hair or a beard beside the face must
not paint it."""


def border_offset(
    face: FloatImage, target: FloatImage, alpha: FloatImage, face_size: float
) -> FloatImage:
    """The border match, a cheap stand-in for gradient-domain blending: what to add to
    ``face`` (the relit face, BGR 0..255 floats) so it agrees with ``target`` where the paste
    mask ``alpha`` fades out. The difference over the mask's feather (0 < alpha < 1) is spread
    smoothly (a weighted local mean over ``BORDER_REACH`` of the face, clamped to
    ``BORDER_LIMIT``) and applied in proportion to how far the pixel is into the feather (in
    full from alpha 1 - 1/``BORDER_GAIN`` down), so at the edge the pasted face already has
    the camera's colour and light and in the middle it keeps the source's. Without it the
    feather's slope times that difference drew a line across the forehead and along the jaw
    (the seam measure in BENCHMARKS.md). All images at one (small) size; ``face_size`` in
    their pixels."""
    feather = ((alpha > 0.02) & (alpha < 0.98)).astype(np.float32)
    if float(feather.sum()) < 4.0:
        return np.zeros_like(face)
    sigma = max(1.0, face_size * BORDER_REACH)
    spread = np.clip(_local_mean(target - face, feather, sigma), -BORDER_LIMIT, BORDER_LIMIT)
    reach = cv2.GaussianBlur(feather, (0, 0), sigma)
    gain = np.clip(reach * 2.0, 0.0, 1.0) * np.clip((1.0 - alpha) * BORDER_GAIN, 0.0, 1.0)
    result: FloatImage = spread * gain[:, :, None]
    return result
