"""Small pure image helpers shared by sources and sinks: aspect-preserving fit, text cards."""

from __future__ import annotations

import os
from collections.abc import Callable

import cv2
import numpy as np

from vcamswap.i18n import _
from vcamswap.types import BgrImage


def fit_image(image: BgrImage, width: int, height: int) -> BgrImage:
    """Scale ``image`` to fit ``width`` x ``height`` keeping its aspect ratio; pad with black."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    scale = min(width / w, height / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    if (new_w, new_h) == (width, height):
        return np.ascontiguousarray(resized)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    x, y = (width - new_w) // 2, (height - new_h) // 2
    canvas[y : y + new_h, x : x + new_w] = resized
    return canvas


LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "C:/Windows/Fonts/segoeuib.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
    "/System/Library/Fonts/Supplemental/Arial Bold.ttf",
    "/Library/Fonts/Arial Bold.ttf",
)
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "C:/Windows/Fonts/msyhbd.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/YuGothB.ttc",
    "C:/Windows/Fonts/meiryo.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
)
"""Fonts the cards use for translated text, per script, in order; OpenCV's own font draws
ASCII only."""


def card_font(text: str, exists: Callable[[str], bool] = os.path.isfile) -> str | None:
    """A font file on this system that draws ``text`` (None: none found)."""
    cjk = any(ord(c) >= 0x2E80 for c in text)
    return next((path for path in (CJK_FONTS if cjk else LATIN_FONTS) if exists(path)), None)


class TextCardRenderer:
    """Renders the placeholder card the virtual camera shows while the camera is lost or
    paused, its reason in the interface language. Text OpenCV cannot draw (accents, CJK) is
    drawn with a system font that has it; with none, the card stays English rather than
    showing boxes."""

    def __init__(
        self,
        translate: Callable[[str], str] = _,
        font: Callable[[str], str | None] = card_font,
    ) -> None:
        self._translate = translate
        self._font = font

    def render(self, reason: str, width: int, height: int) -> BgrImage:
        card = np.full((height, width, 3), (48, 38, 32), dtype=np.uint8)
        text = self._translate(reason)
        if not text.isascii():
            font = self._font(text)
            if font is not None:
                return _draw_truetype(card, text, font)
            text = reason
        scale = max(0.5, min(width, height) / 400.0)
        thickness = max(1, round(scale * 2))
        for line, dy, size in ((text, -0.05, 1.0), ("VCamSwap", 0.12, 0.55)):
            (tw, th), _b = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale * size, thickness)
            origin = ((width - tw) // 2, int(height * (0.5 + dy)) + th // 2)
            cv2.putText(
                card,
                line,
                origin,
                cv2.FONT_HERSHEY_SIMPLEX,
                scale * size,
                (235, 235, 235),
                thickness,
                cv2.LINE_AA,
            )
        return card


def _draw_truetype(card: BgrImage, text: str, font_path: str) -> BgrImage:
    from PIL import Image, ImageDraw, ImageFont

    height, width = card.shape[:2]
    picture = Image.fromarray(card[:, :, ::-1])
    draw = ImageDraw.Draw(picture)
    size = max(12, round(min(width, height) / 400.0 * 30))
    for line, dy, scale in ((text, -0.05, 1.0), ("VCamSwap", 0.12, 0.55)):
        font = ImageFont.truetype(font_path, max(10, round(size * scale)))
        left, top, right, bottom = draw.textbbox((0, 0), line, font=font)
        while right - left > width * 0.92 and font.size > 10:
            font = ImageFont.truetype(font_path, font.size - 2)
            left, top, right, bottom = draw.textbbox((0, 0), line, font=font)
        x = (width - (right - left)) // 2 - left
        y = int(height * (0.5 + dy)) - (bottom - top) // 2 - top
        draw.text((x, y), line, font=font, fill=(235, 235, 235))
    return np.ascontiguousarray(np.asarray(picture)[:, :, ::-1])
