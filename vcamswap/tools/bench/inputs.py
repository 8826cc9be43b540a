"""What `vcamswap bench` runs: the request, the frames (a clip, tiled faces or a pattern) and
the processor (an engine, with its faces pinned for random-weight benchmark models)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vcamswap.config import AppPaths, Config
from vcamswap.devices.imaging import fit_image
from vcamswap.devices.sources import TestPatternSource
from vcamswap.errors import ConfigError, DeviceError
from vcamswap.inference import align
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.store import ModelStore, Override
from vcamswap.pipeline.status import PipelineStats
from vcamswap.ports import DetectedFace, FaceDetector
from vcamswap.processors.base import (
    CopyProcessor,
    PassthroughProcessor,
    ProcessorChain,
)
from vcamswap.processors.engines import build_swap_processor, model_store, neural_loader
from vcamswap.processors.label import LabelStyle, SyntheticLabelProcessor, WatermarkProcessor
from vcamswap.processors.neural import NeuralModels, NeuralOptions, NeuralSwapProcessor
from vcamswap.runtime import RuntimeState, Toggles
from vcamswap.safety.watermark import Codebook, Watermarker
from vcamswap.samples import animate, sample_photo, sample_photo_path
from vcamswap.types import BgrImage, FaceBox, FrameProcessor


@dataclass(frozen=True, slots=True)
class BenchRequest:
    engine: str = "lite"
    input: str = "sample"
    frames: int = 300
    size: tuple[int, int] | None = None
    paced: bool = False
    models: Path | None = None
    providers: str | None = None
    faces_per_frame: int = 1
    preload: int = 120
    enhancer: bool = False
    watermark: bool = True
    """The hidden watermark finisher (safety.watermark, on by default as in the config)."""
    swapper: str = "inswapper_128"
    mask: str = "box"
    """neural: 'parser' pastes through the face parser's mask (swap.mask)."""
    resolution: int = 128
    """neural: pixel boost (swap.resolution)."""
    io_binding: bool | None = None
    pin_faces: bool = False
    cuda_graph: bool = True
    """neural, CUDA: models.cuda_graph (on by default, as in the config)."""
    detect_every: int = 1
    governor: str = "off"
    """'auto' (with ``paced``): the quality governor as in a live run."""
    cpu_load: int = 0
    """Busy processes run meanwhile: another app competing for the CPU."""
    device_compositing: str = "auto"
    """neural: models.device_compositing ('auto' = on with CUDA/TensorRT)."""
    detect_async: bool = False
    """neural: SCRFD on a side thread (as the live daemon does with swap.neural_detect_async)."""
    remote: str | None = None
    """grpc://HOST:PORT: the swapper and enhancer run on that Triton server."""
    first_swap_s: float = 60.0
    """How long the run waits for its first swapped face before it fails."""
    content_check_s: float | None = None
    """With ``paced``: run the live content check every this many seconds (real model)."""


def providers_used(request: BenchRequest) -> dict[str, Any] | None:
    if request.engine != "neural":
        return None
    from vcamswap.inference.providers import onnxruntime_info

    info = onnxruntime_info()
    return {
        "requested": request.providers or "auto",
        "onnxruntime": info.version if info else None,
        "available": list(info.providers) if info else [],
        "io_binding": request.io_binding,
        "swapper": request.swapper,
        "enhancer": request.enhancer,
        "pinned_faces": request.pin_faces,
        "cuda_graph": request.cuda_graph,
        "detect_every": request.detect_every,
        "device_compositing": request.device_compositing,
    }


def tile(image: BgrImage, count: int) -> BgrImage:
    """``count`` copies of ``image`` in a near-square grid at the original size (K faces)."""
    if count <= 1:
        return image
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    h, w = image.shape[:2]
    cell = cv2.resize(image, (w // cols, h // rows), interpolation=cv2.INTER_AREA)
    canvas = np.zeros_like(image)
    for k in range(count):
        r, c = divmod(k, cols)
        canvas[
            r * cell.shape[0] : (r + 1) * cell.shape[0], c * cell.shape[1] : (c + 1) * cell.shape[1]
        ] = cell
    return canvas


def load_frames(request: BenchRequest, paths: AppPaths) -> tuple[list[BgrImage], float]:
    size = request.size or (640, 480)
    count = min(request.frames, request.preload)
    if request.input == "sample":
        photo = sample_photo("grace_hopper")
        return [
            tile(animate(photo, i, count, size), request.faces_per_frame) for i in range(count)
        ], 30.0
    if request.input == "pattern":
        pattern = TestPatternSource(*size)
        pattern.open()
        read = [pattern.read() for _ in range(count)]
        return [f for f in read if f is not None], 30.0
    path = Path(request.input)
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DeviceError(f"cannot read benchmark input {path}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    frames: list[BgrImage] = []
    while len(frames) < count:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(tile(fit_image(image, *size), request.faces_per_frame))
    capture.release()
    if not frames:
        raise DeviceError(f"benchmark input {path} has no frames")
    return frames, float(fps)


def pinned_faces(width: int, height: int, count: int) -> list[DetectedFace]:
    """``count`` faces laid out like ``tile``: the arcface template scaled into each cell."""
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    cw, ch = width / cols, height / rows
    faces = []
    for k in range(count):
        r, c = divmod(k, cols)
        scale = min(cw, ch) * 0.5 / 112.0
        kps = (align.ARCFACE_112 - 56.0) * scale + (c * cw + cw / 2, r * ch + ch / 2)
        x0, y0 = kps.min(axis=0) - 30 * scale
        x1, y1 = kps.max(axis=0) + 30 * scale
        faces.append(
            DetectedFace(
                FaceBox(float(x0), float(y0), float(x1), float(y1), 0.99), kps.astype(np.float32)
            )
        )
    return faces


@dataclass(frozen=True, slots=True)
class PinnedDetector:
    """Runs the real detector (so its time counts) but reports fixed faces: random-weight
    benchmark models detect noise, and a benchmark needs a known face count."""

    inner: FaceDetector
    faces: list[DetectedFace]

    def detect(self, image: BgrImage) -> list[DetectedFace]:
        self.inner.detect(image)
        return list(self.faces)

    def resize(self, size: int | None) -> None:
        self.inner.resize(size)


def bench_store(config: Config, paths: AppPaths, folder: Path) -> ModelStore:
    """The files in ``folder`` taken as they are (digests computed, not checked): benchmark
    models have random weights and no published digest."""
    hasher = ModelStore(folder, paths.cache_dir / "bench-digests.json")
    overrides = {
        spec.name: Override(folder / spec.file, hasher.digest(folder / spec.file))
        for spec in CATALOG.values()
        if (folder / spec.file).is_file()
    }
    return ModelStore(folder, paths.cache_dir / "bench-digests.json", overrides)


def build_processor(
    request: BenchRequest, paths: AppPaths, stats: PipelineStats, size: tuple[int, int]
) -> FrameProcessor:
    if request.engine == "passthrough":
        return PassthroughProcessor()
    if request.engine == "copy":
        return CopyProcessor()
    if request.engine not in ("lite", "neural"):
        raise ConfigError(f"unknown engine {request.engine!r}")
    config = Config()
    config.swap.many_faces = request.faces_per_frame > 1
    config.swap.engine = request.engine  # type: ignore[assignment]
    config.swap.enhancer = request.enhancer
    config.safety.watermark.enabled = request.watermark
    config.models.swapper = request.swapper  # type: ignore[assignment]
    config.swap.mask = request.mask  # type: ignore[assignment]
    config.swap.resolution = request.resolution  # type: ignore[assignment]
    config.models.cuda_graph = request.cuda_graph
    config.models.device_compositing = request.device_compositing  # type: ignore[assignment]
    config.models.remote.url = request.remote
    face = sample_photo_path("grace_hopper")
    state = RuntimeState(Toggles(enhancer=request.enhancer))
    if request.engine == "lite":
        return build_swap_processor(config, paths, state, stats, resolve=lambda _n: face)
    store = (
        bench_store(config, paths, request.models) if request.models else model_store(config, paths)
    )
    providers = tuple(request.providers.split(",")) if request.providers else None
    load = neural_loader(config, store, paths, providers, request.io_binding)
    if request.pin_faces:
        faces = pinned_faces(*size, request.faces_per_frame)
        inner = load

        def load_pinned() -> NeuralModels:
            models = inner()
            return replace(models, detector=PinnedDetector(models.detector, faces))

        load = load_pinned
    neural = NeuralSwapProcessor(
        load,
        lambda _n: face,
        state,
        NeuralOptions(
            many_faces=request.faces_per_frame > 1,
            detect_every=request.detect_every,
            detect_async=request.detect_async,
            resolution=request.resolution,
            parser=request.mask == "parser",
        ),
        stats,
    )
    return ProcessorChain(
        [neural],
        [SyntheticLabelProcessor(LabelStyle())]
        + ([WatermarkProcessor(Watermarker(Codebook()))] if request.watermark else []),
        engine="neural",
        engine_reason="bench --engine neural",
    )
