"""Camera options applied once per frame on the capture thread: digital zoom (crop + scale),
rotation and mirror. A crop is a view; rotation and flip are one OpenCV call each."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vcamswap.types import BgrImage, FrameSource

_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


@dataclass(frozen=True, slots=True)
class CameraTransform:
    mirror: bool = False
    rotate: int = 0
    zoom: float = 1.0
    pan: tuple[float, float] = (0.0, 0.0)

    @property
    def identity(self) -> bool:
        return not self.mirror and self.rotate == 0 and self.zoom == 1.0

    def describe(self) -> str:
        parts = [
            p
            for p, on in (
                ("mirrored", self.mirror),
                (f"rotated {self.rotate}°", self.rotate != 0),
                (f"zoom {self.zoom:g}x", self.zoom != 1.0),
            )
            if on
        ]
        return ", ".join(parts)

    def apply(self, image: BgrImage) -> BgrImage:
        out = image
        if self.zoom != 1.0:
            h, w = image.shape[:2]
            cw, ch = max(2, round(w / self.zoom)), max(2, round(h / self.zoom))
            x0 = round((w - cw) / 2 * (1.0 + self.pan[0]))
            y0 = round((h - ch) / 2 * (1.0 + self.pan[1]))
            out = cv2.resize(
                out[y0 : y0 + ch, x0 : x0 + cw], (w, h), interpolation=cv2.INTER_LINEAR
            )
        if self.rotate:
            out = cv2.rotate(out, _ROTATE[self.rotate])
        if self.mirror:
            out = cv2.flip(out, 1)
        return np.ascontiguousarray(out)


class TransformedSource:
    """A FrameSource whose frames pass through ``transform`` on the capture thread."""

    def __init__(self, source: FrameSource, transform: CameraTransform) -> None:
        self._source = source
        self._transform = transform

    @property
    def nominal_fps(self) -> float:
        return self._source.nominal_fps

    @property
    def paced_by_device(self) -> bool:
        return self._source.paced_by_device

    @property
    def description(self) -> str:
        return f"{self._source.description} ({self._transform.describe()})"

    @property
    def inner(self) -> FrameSource:
        return self._source

    def open(self) -> None:
        self._source.open()

    def read(self) -> BgrImage | None:
        image = self._source.read()
        return None if image is None else self._transform.apply(image)

    def close(self) -> None:
        self._source.close()
