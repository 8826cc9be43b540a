"""The visible synthetic-media badge, drawn on every swapped frame.

The badge is rendered once per frame size into a small BGR patch and alpha mask; per frame only
that corner is blended, so the cost stays far below a millisecond at 1280x720."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vcamswap.safety.watermark import Watermarker
from vcamswap.types import BgrImage, Frame


@dataclass(frozen=True, slots=True)
class LabelStyle:
    text: str = "AI-generated"
    position: str = "bottom-right"
    scale: float = 1.0
    opacity: float = 0.85


@dataclass(frozen=True, slots=True)
class _Badge:
    patch: np.ndarray[Any, np.dtype[np.float32]]
    alpha: np.ndarray[Any, np.dtype[np.float32]]
    left: int
    top: int


def render_badge(style: LabelStyle, width: int, height: int) -> _Badge:
    font_scale = max(0.4, min(width, height) / 720.0 * 0.7 * style.scale)
    thickness = max(1, round(font_scale * 2))
    (tw, th), base = cv2.getTextSize(style.text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
    pad = max(4, th // 2)
    bw, bh = min(width, tw + 2 * pad), min(height, th + base + 2 * pad)
    patch = np.full((bh, bw, 3), (30, 30, 30), dtype=np.uint8)
    cv2.putText(
        patch,
        style.text,
        (pad, pad + th),
        cv2.FONT_HERSHEY_SIMPLEX,
        font_scale,
        (255, 255, 255),
        thickness,
        cv2.LINE_AA,
    )
    margin = max(4, min(width, height) // 60)
    left = margin if "left" in style.position else width - bw - margin
    top = margin if style.position.startswith("top") else height - bh - margin
    alpha = np.full((bh, bw, 1), style.opacity, dtype=np.float32)
    keep = np.float32(1.0) - alpha
    return _Badge(patch.astype(np.float32) * alpha, keep, max(0, left), max(0, top))


class SyntheticLabelProcessor:
    """Draws the badge on every frame it is given. In a ProcessorChain it is a finisher: the
    pipeline gives it every output frame while the swap is on (swapped or guarded), so the badge
    stays steady instead of following detection."""

    def __init__(self, style: LabelStyle = LabelStyle()) -> None:
        self._style = style
        self._badge: tuple[tuple[int, int], _Badge] | None = None

    def start(self) -> None:
        return None

    def close(self) -> None:
        return None

    def _badge_for(self, image: BgrImage) -> _Badge:
        size = (image.shape[1], image.shape[0])
        if self._badge is None or self._badge[0] != size:
            self._badge = (size, render_badge(self._style, *size))
        return self._badge[1]

    def process(self, frame: Frame) -> Frame:
        badge = self._badge_for(frame.image)
        h, w = badge.alpha.shape[:2]
        region = frame.image[badge.top : badge.top + h, badge.left : badge.left + w]
        mixed = region.astype(np.float32) * badge.alpha + badge.patch
        if frame.swapped or frame.guarded is not None:
            # The swap or the guard already produced a new image this frame; writing into it
            # is not mutating the camera's frame.
            region[:] = mixed.astype(np.uint8)
            return frame
        image = frame.image.copy()
        image[badge.top : badge.top + h, badge.left : badge.left + w] = mixed.astype(np.uint8)
        return frame.with_image(image, guarded=frame.guarded)


class WatermarkProcessor:
    """Embeds the hidden watermark (``safety.watermark``) in every frame it is given: a
    finisher like the badge, so every output frame carrying a swap or the guard's cover is
    marked while the swap is on; camera frames passed through with the swap off are not."""

    def __init__(self, marker: Watermarker) -> None:
        self._marker = marker

    def start(self) -> None:
        return None

    def close(self) -> None:
        return None

    def process(self, frame: Frame) -> Frame:
        if frame.swapped or frame.guarded is not None:
            self._marker.mark_in_place(frame.image)  # a new image already (see above)
            return frame
        return frame.with_image(self._marker.mark(frame.image), guarded=frame.guarded)
