"""`vcamswap bench`: the live pipeline's three threads on a clip, measured.

Unpaced (default): frames from memory as fast as the processor takes them (back-pressure, no
drops), into a null sink: throughput. ``--paced``: the clip at its own fps: output rate and
capture-to-sink latency as a video app would see them."""

from __future__ import annotations

import math
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vcamswap.config import AppPaths, Config
from vcamswap.devices.imaging import TextCardRenderer, fit_image
from vcamswap.devices.sinks import NullSink
from vcamswap.devices.sources import MemoryFramesSource, TestPatternSource
from vcamswap.errors import ConfigError, DeviceError
from vcamswap.pipeline.status import PipelineStats, percentile
from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
from vcamswap.processors.base import CopyProcessor, PassthroughProcessor, Processor
from vcamswap.processors.engines import build_swap_processor
from vcamswap.runtime import RuntimeState
from vcamswap.samples import sample_clip, sample_photo_path
from vcamswap.types import BgrImage

STAGES = ("detect", "landmarks", "embed", "swap", "enhance", "paste", "total")


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


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform(), "gpu": None}


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
        canvas[r * cell.shape[0]:(r + 1) * cell.shape[0],
               c * cell.shape[1]:(c + 1) * cell.shape[1]] = cell
    return canvas


def load_frames(request: BenchRequest, paths: AppPaths) -> tuple[list[BgrImage], float]:
    size = request.size or (640, 480)
    count = min(request.frames, request.preload)
    if request.input == "pattern":
        pattern = TestPatternSource(*size)
        pattern.open()
        read = [pattern.read() for _ in range(count)]
        return [f for f in read if f is not None], 30.0
    path = sample_clip(paths.cache_dir, size) if request.input == "sample" else Path(
        request.input)
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


def build_processor(request: BenchRequest, paths: AppPaths, stats: PipelineStats) -> Processor:
    if request.engine == "passthrough":
        return PassthroughProcessor()
    if request.engine == "copy":
        return CopyProcessor()
    config = Config()
    config.swap.many_faces = request.faces_per_frame > 1
    config.swap.engine = "lite" if request.engine == "lite" else "neural"
    if request.engine not in ("lite", "neural"):
        raise ConfigError(f"unknown engine {request.engine!r}")
    face = sample_photo_path("grace_hopper")
    return build_swap_processor(config, paths, RuntimeState(), stats, resolve=lambda _n: face)


def run_bench(request: BenchRequest, paths: AppPaths) -> dict[str, Any]:
    frames, fps = load_frames(request, paths)
    stats = PipelineStats(samples=max(600, request.frames))
    source = MemoryFramesSource(frames, fps, f"{request.input} ({len(frames)} frames)")
    h, w = frames[0].shape[:2]
    options = PipelineOptions(output_fps=fps, default_size=(w, h), paced=request.paced,
                              lockstep=not request.paced,
                              max_frames=None if request.paced else request.frames)
    supervisor = Supervisor(source, build_processor(request, paths, stats), NullSink(),
                            TextCardRenderer(), options=options, stats=stats)
    started = time.monotonic()
    supervisor.start()
    limit = request.frames / fps if request.paced else 600.0
    supervisor.wait(limit)
    elapsed = time.monotonic() - started
    status = supervisor.status()
    supervisor.stop()
    latencies = stats.latencies_ms()
    samples = stats.stage_samples()
    result: dict[str, Any] = {
        "engine": request.engine,
        "input": request.input,
        "size": f"{w}x{h}",
        "paced": request.paced,
        "frames": status.frames_processed,
        "fps": round(status.frames_processed / elapsed, 2) if elapsed > 0 else 0.0,
        # Paced: the rate over the last 2 s (start-up excluded), as a video app sees it.
        "output_fps": status.output_fps if request.paced else (
            round(status.frames_out / elapsed, 2) if elapsed > 0 else 0.0),
        "latency_ms": {"p50": round(percentile(latencies, 50), 2),
                       "p95": round(percentile(latencies, 95), 2)},
        "stages_ms": {k: round(percentile(samples[k], 50), 3) if k in samples else None
                      for k in STAGES},
        "faces_per_frame": request.faces_per_frame,
        "dropped": status.dropped,
        "providers": None,
        "machine": machine(),
    }
    return result
