"""The compositor on the CPU: OpenCV crops, the swapper's own pre- and post-processing, LAB
colour transfer, sharpening and a paste-back limited to each face's box."""

from __future__ import annotations

from typing import Any

import numpy as np

from vcamswap.compositing.blend import (
    ColorStats,
    FloatImage,
    face_alpha,
    feather_mask,
    paste_back,
    sharpen,
    transfer_color,
    zero_border,
)
from vcamswap.compositing.protocols import EnhanceJob, FaceJob, Look
from vcamswap.inference.align import crop
from vcamswap.ports import FaceEnhancer, FaceSwapper, Matrix
from vcamswap.types import BgrImage, StageRecorder, timed_stage


class HostEnhancer:
    """Restores face crops with the enhancer and pastes them back; between refreshes it
    re-pastes the last restored crops where they were restored. Any enhancer will do: local,
    or remote beside a device compositor."""

    def __init__(self, enhancer: FaceEnhancer) -> None:
        self._enhancer = enhancer
        self._restored: list[tuple[Matrix, BgrImage]] = []

    def apply(self, out: BgrImage, job: EnhanceJob) -> None:
        """Enhance ``out`` (owned by the caller) in place."""
        size = self._enhancer.spec.input_size
        if job.refresh or len(self._restored) != len(job.matrices):
            crops = [crop(out, m, size) for m in job.matrices]
            restored = self._enhancer.enhance(crops)
            self._restored = list(zip(job.matrices, restored, strict=True))
        inset = zero_border(job.alpha)
        for matrix, face in self._restored:
            paste_back(out, face, matrix, job.alpha, inset)


COLOR_KEEP = 0.7
"""Share of a face's previous colour statistics kept each frame (tracked faces only)."""


def to_tiles(crop_image: BgrImage, tiles: int) -> list[BgrImage]:
    """Pixel boost: a (tiles * S)-px crop as tiles * tiles sub-sampled S-px images; tile
    (a, b) holds pixels (a + tiles * i, b + tiles * j)."""
    if tiles == 1:
        return [crop_image]
    side = crop_image.shape[0] // tiles
    grid = crop_image.reshape(side, tiles, side, tiles, 3).transpose(1, 3, 0, 2, 4)
    return list(np.ascontiguousarray(grid.reshape(tiles * tiles, side, side, 3)))


def from_tiles(parts: list[BgrImage], tiles: int) -> BgrImage:
    """The inverse of ``to_tiles``."""
    if tiles == 1:
        return parts[0]
    side = parts[0].shape[0]
    grid = np.stack(parts).reshape(tiles, tiles, side, side, 3).transpose(2, 0, 3, 1, 4)
    image: BgrImage = np.ascontiguousarray(grid.reshape(side * tiles, side * tiles, 3))
    return image


class HostCompositor:
    """``Compositor`` on the CPU. Not thread-safe: the inference thread calls it."""

    def __init__(self, swapper: FaceSwapper, enhancer: FaceEnhancer | None = None) -> None:
        self._swapper = swapper
        self._enhancer = HostEnhancer(enhancer) if enhancer is not None else None
        self._alphas: dict[int, tuple[FloatImage, int]] = {}
        self._stats: dict[int, ColorStats] = {}

    @property
    def where(self) -> str:
        return "host"

    def _alpha(self, size: int) -> tuple[FloatImage, int]:
        """The crop's feathered box mask and its zero border, per crop size."""
        cached = self._alphas.get(size)
        if cached is None:
            alpha = feather_mask(size)
            cached = self._alphas[size] = (alpha, zero_border(alpha))
        return cached

    def composite(
        self,
        image: BgrImage,
        faces: FaceJob,
        look: Look,
        enhance: EnhanceJob | None,
        stages: StageRecorder,
    ) -> BgrImage:
        tiles = faces.tiles
        size = self._swapper.spec.input_size * tiles
        base, inset = self._alpha(size)
        crops = [crop(image, m, size) for m in faces.matrices]
        count = len(crops)
        latents = faces.latents.reshape(-1, faces.latents.shape[-1])
        if len(latents) != count:
            latents = np.repeat(latents[:1], count, axis=0)
        with timed_stage(stages, "swap"):
            parts = [t for c in crops for t in to_tiles(c, tiles)]
            swapped_parts = self._swapper.swap(parts, np.repeat(latents, tiles * tiles, axis=0))
            step = tiles * tiles
            swapped = [
                from_tiles(swapped_parts[i * step : (i + 1) * step], tiles) for i in range(count)
            ]
        out: BgrImage = image.copy()
        tracks = faces.tracks if len(faces.tracks) == count else (None,) * count
        regions = faces.masks if faces.masks is not None else [None] * count
        stats: dict[int, ColorStats] = {}
        with timed_stage(stages, "paste"):
            for kps, matrix, target, raw, track, region in zip(
                faces.kps, faces.matrices, crops, swapped, tracks, regions, strict=True
            ):
                alpha = face_alpha(base, kps, matrix, look.mouth_mask, look.opacity, region)
                result = raw
                if look.color_correction:
                    mask = (alpha > alpha.max() * 0.5).astype(np.uint8)
                    previous = self._stats.get(track) if track is not None else None
                    result, used = transfer_color(result, target, mask, previous, COLOR_KEEP)
                    if track is not None and used is not None:
                        stats[track] = used
                result = sharpen(result, look.sharpness)
                paste_back(out, result, matrix, alpha, inset)
        self._stats = stats
        if enhance is not None and self._enhancer is not None:
            with timed_stage(stages, "enhance"):
                self._enhancer.apply(out, enhance)
        return out

    def close(self) -> None:
        return None


def blank_job(swapper: FaceSwapper) -> tuple[BgrImage, FaceJob]:
    """A 640x480 black frame and one face in its middle: a compositor's first (warm-up) run."""
    kps = np.array([[40, 50], [88, 50], [64, 70], [46, 92], [82, 92]], np.float64)
    latent: np.ndarray[Any, np.dtype[np.float32]] = np.ones((1, 512), np.float32) / np.float32(
        np.sqrt(512.0)
    )
    job = FaceJob([kps], [swapper.matrix(kps)], latent)
    return np.zeros((480, 640, 3), np.uint8), job
