"""The part of a frame the device compositor moves: a square window around the faces, in a few
fixed sides so buffers (and captured graphs) are reused while a face moves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vcamswap.ports import Matrix

WINDOW_SIDES = (128, 192, 256, 384, 512, 768, 1024, 1536, 2048)
"""Square window sides: each window size needs its own buffers (and, with CUDA graphs, its
own sessions), so a face that changes size moves through a few of them, not one per pixel."""


def frame_window(
    footprints: Sequence[tuple[Any, int]], frame_hw: tuple[int, int], keep: int | None = None
) -> tuple[tuple[int, int] | None, tuple[int, int], int]:
    """The part of the frame the device path needs for ``footprints`` (crop pixel -> frame
    pixel matrix, crop size): (rows and columns, or None for the whole frame; top and left;
    the side chosen, to pass back as ``keep``). It holds every frame pixel whose crop
    coordinate is in [-1, size), all that bilinear sampling reads from or writes to, with a
    pixel to spare; ``keep`` (the last side) stays while it holds them and is at most twice
    the side they need, so a face that moves a little keeps its buffers and graphs."""
    h, w = frame_hw
    if not footprints:
        return None, (0, 0), keep or max(h, w)
    points = np.concatenate(
        [
            np.array([[-1, -1, 1], [size, -1, 1], [-1, size, 1], [size, size, 1]], np.float64)
            @ np.asarray(inverse, np.float64).T
            for inverse, size in footprints
        ]
    )
    top = max(int(np.floor(points[:, 1].min())) - 1, 0)
    left = max(int(np.floor(points[:, 0].min())) - 1, 0)
    bottom = min(int(np.ceil(points[:, 1].max())) + 2, h)
    right = min(int(np.ceil(points[:, 0].max())) + 2, w)
    need = max(bottom - top, right - left, 1)
    side = next((s for s in WINDOW_SIDES if s >= need), max(h, w))
    if keep is not None and need <= keep <= 2 * side:
        side = keep
    rows, cols = min(side, h), min(side, w)
    if (rows, cols) == (h, w):
        return None, (0, 0), side
    y0 = min(max(top - (rows - (bottom - top)) // 2, 0), h - rows)
    x0 = min(max(left - (cols - (right - left)) // 2, 0), w - cols)
    return (rows, cols), (y0, x0), side


def to_window(matrix: Matrix, shift: np.ndarray[Any, Any]) -> Matrix:
    """A frame -> crop matrix for window coordinates (frame point = window point + shift)."""
    moved: Matrix = np.array(matrix, np.float64)
    moved[:, 2] += moved[:, :2] @ shift
    return moved
