"""A hidden watermark that marks frames as synthetic: spread spectrum on low-frequency luma.

Scheme (VCamSwap's own, documented in docs/PROVENANCE.md):

- The frame is divided into a fixed grid of ``GRID`` cells whatever its size, so scaling the
  video keeps the grid aligned. One of ``CODEWORDS`` pseudo-random +/-1 patterns over the grid
  (drawn once from a fixed public seed) is chosen by the payload byte, smoothly upsampled to the
  frame and added to every colour channel (so to luma) with an amplitude of ``STRENGTH`` grey
  levels. The cells are 13 px at 1280x720: low enough in frequency that H.264 at 1 Mbit/s,
  JPEG and scaling keep them, spread over the whole picture so that no one region carries it.
- Detection shrinks the luma to the grid (area average), removes the picture's own smooth
  content with a local mean (the residual is what the pattern lives in), and correlates the
  residual with every codeword's pattern filtered the same way. The normalised correlation
  ``z`` is about a standard normal for an unmarked picture; a mark is reported when the best
  codeword's ``z`` passes ``THRESHOLD`` and its payload names VCamSwap.

The payload is 4 bits: the format version (2 bits) and 2 spare bits. It never holds
anything about the user or the machine: every VCamSwap output carries the same mark.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vcamswap.types import BgrImage

GRID = (96, 54)
"""Cells across and down (16:9; other shapes get non-square cells)."""
CODEWORDS = 16
VERSION = 1
SPARE = 0
STRENGTH = 3.5
"""Amplitude in grey levels of a cell before the smooth upsampling. Measured on the package
photos at 1280x720: 40.6 dB PSNR; H.264 at 1 Mbit/s erased most of the mark below 3 (its
quantiser's dead zone) and kept it at 3.5 (BENCHMARKS.md, Provenance)."""
CLIP = 2.0
"""The residual is clipped to +/- this many grey levels before correlating: the picture's edges
dominate the residual, and bounding them raised the marked frames' z about fourfold."""
THRESHOLD = 5.5
"""Best codeword's z-score for 'marked' in one frame (about N(0,1) per codeword unmarked; an
independent tester saw 4.39 on a real picture and 5.07 once in 20,000 noise grids at the
first threshold, 5.0; marked frames after H.264 at 1 Mbit/s score 6.3 and up)."""
SEED_TEXT = b"VCamSwap synthetic face watermark v1"

FloatArray = np.ndarray[Any, np.dtype[np.float32]]


def payload_byte(version: int = VERSION, spare: int = SPARE) -> int:
    """The codeword index: 2 bits of format version, 2 spare bits."""
    return ((version & 0x3) << 2) | (spare & 0x3)


@dataclass(frozen=True, slots=True)
class Payload:
    version: int
    spare: int

    @classmethod
    def of(cls, byte: int) -> Payload:
        return cls(byte >> 2, byte & 0x3)

    def describe(self) -> str:
        return f"synthetic face, VCamSwap (watermark format {self.version})"


@dataclass(frozen=True, slots=True)
class Reading:
    """What one picture says: the best codeword's z-score and the payload it carries."""

    z: float
    payload: int

    @property
    def found(self) -> bool:
        return self.z >= THRESHOLD and Payload.of(self.payload).version == VERSION


def _highpass(grid: FloatArray) -> FloatArray:
    smooth = cv2.blur(grid, (3, 3), borderType=cv2.BORDER_REFLECT)
    out: FloatArray = (grid - smooth).astype(np.float32)
    return out


class Codebook:
    """The fixed patterns; built once (a few MB) and shared read-only by embedder and detector."""

    def __init__(self) -> None:
        seed = int.from_bytes(hashlib.sha256(SEED_TEXT).digest()[:8], "little")
        rng = np.random.default_rng(seed)
        w, h = GRID
        signs = rng.integers(0, 2, size=(CODEWORDS, h, w), dtype=np.int8)
        self.patterns: FloatArray = (signs.astype(np.float32) * 2.0 - 1.0).astype(np.float32)
        filtered = np.stack([_highpass(p) for p in self.patterns]).reshape(CODEWORDS, -1)
        norms = np.linalg.norm(filtered, axis=1, keepdims=True)
        self._matched: FloatArray = (filtered / norms).astype(np.float32)

    def scores(self, image: BgrImage) -> FloatArray:
        """Every codeword's z-score for ``image`` (any size; BGR or grey)."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if gray.shape[0] < GRID[1] or gray.shape[1] < GRID[0]:
            # Smaller than the grid: cells would be interpolated, not averaged, and correlate
            # with each other; nothing this small is read (a tester's 48x48 icon scored 4.39).
            return np.zeros(CODEWORDS, np.float32)
        small = cv2.resize(gray, GRID, interpolation=cv2.INTER_AREA).astype(np.float32)
        residual = np.clip(_highpass(small), -CLIP, CLIP).reshape(-1)
        norm = float(np.linalg.norm(residual))
        if norm < 1e-6:
            return np.zeros(CODEWORDS, np.float32)
        out: FloatArray = self._matched @ (residual / norm) * np.float32(np.sqrt(residual.size))
        return out

    def read(self, image: BgrImage) -> Reading:
        """The best codeword and its z-score. Uniform bars around the picture (letterbox or
        pillarbox: a 4:3 camera sent at 16:9) are cut off first, since the grid was the
        picture's. A picture at least twice as wide as it is high is also read as two
        halves: a side-by-side (the demo's, an editor's comparison) holds a marked frame in
        one half, on a grid of its own."""
        views = [image]
        trimmed = without_bars(image)
        if trimmed is not image:
            views.append(trimmed)
        h, w = trimmed.shape[:2]
        if w >= 2 * h:
            views += [trimmed[:, : w // 2], trimmed[:, w // 2 :]]
        best = Reading(-np.inf, 0)
        for view in views:
            scores = self.scores(view)
            index = int(np.argmax(scores))
            if scores[index] > best.z:
                best = Reading(float(scores[index]), index)
        return best


def without_bars(image: BgrImage, tolerance: float = 2.0) -> BgrImage:
    """``image`` without the uniform rows and columns along its edges (``image`` itself when
    there are none)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    flat_cols = gray.std(axis=0) < tolerance
    flat_rows = gray.std(axis=1) < tolerance
    h, w = gray.shape[:2]
    left = int(np.argmin(flat_cols)) if not flat_cols.all() else 0
    right = w - int(np.argmin(flat_cols[::-1])) if not flat_cols.all() else w
    top = int(np.argmin(flat_rows)) if not flat_rows.all() else 0
    bottom = h - int(np.argmin(flat_rows[::-1])) if not flat_rows.all() else h
    if right - left < w // 4 or bottom - top < h // 4:
        return image
    if (left, top, right, bottom) == (0, 0, w, h):
        return image
    return image[top:bottom, left:right]


class Watermarker:
    """Adds the mark to frames. The full-size pattern is built once per frame size and kept as
    two saturating uint8 layers (add, subtract): two OpenCV calls a frame."""

    def __init__(self, codebook: Codebook, payload: int = payload_byte()) -> None:
        self._pattern = codebook.patterns[payload]
        self._layers: tuple[tuple[int, int], BgrImage, BgrImage] | None = None

    def _layers_for(self, width: int, height: int) -> tuple[BgrImage, BgrImage]:
        if self._layers is None or self._layers[0] != (width, height):
            full = cv2.resize(self._pattern * STRENGTH, (width, height), cv2.INTER_LINEAR)
            rounded = np.rint(full)
            up = np.clip(rounded, 0, 255).astype(np.uint8)
            down = np.clip(-rounded, 0, 255).astype(np.uint8)
            self._layers = ((width, height), cv2.merge([up] * 3), cv2.merge([down] * 3))
        return self._layers[1], self._layers[2]

    def mark(self, image: BgrImage) -> BgrImage:
        """A marked copy of ``image``."""
        up, down = self._layers_for(image.shape[1], image.shape[0])
        out: BgrImage = cv2.subtract(cv2.add(image, up), down)
        return out

    def mark_in_place(self, image: BgrImage) -> None:
        up, down = self._layers_for(image.shape[1], image.shape[0])
        cv2.add(image, up, dst=image)
        cv2.subtract(image, down, dst=image)
