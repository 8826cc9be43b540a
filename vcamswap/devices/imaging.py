"""Small pure image helpers shared by sources and sinks: aspect-preserving fit, text cards."""

from __future__ import annotations

import cv2
import numpy as np

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


class TextCardRenderer:
    """Renders the placeholder card the virtual camera shows while the camera is lost or paused."""

    def render(self, reason: str, width: int, height: int) -> BgrImage:
        card = np.full((height, width, 3), (48, 38, 32), dtype=np.uint8)
        scale = max(0.5, min(width, height) / 400.0)
        thickness = max(1, round(scale * 2))
        for text, dy, size in ((reason, -0.05, 1.0), ("VCamSwap", 0.12, 0.55)):
            (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale * size, thickness)
            origin = ((width - tw) // 2, int(height * (0.5 + dy)) + th // 2)
            cv2.putText(
                card,
                text,
                origin,
                cv2.FONT_HERSHEY_SIMPLEX,
                scale * size,
                (235, 235, 235),
                thickness,
                cv2.LINE_AA,
            )
        return card
