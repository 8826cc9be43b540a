"""`vcamswap bench`: the live pipeline's three threads on a clip, measured from the first frame
with a swapped face on.

Unpaced (default): frames from memory as fast as the processor takes them (back-pressure, no
drops), into a null sink: throughput. ``--paced``: the clip at its own fps: output rate and
capture-to-sink latency as a video app would see them."""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vcamswap.config import AppPaths, Config
from vcamswap.devices.imaging import TextCardRenderer, fit_image
from vcamswap.devices.sinks import NullSink
from vcamswap.devices.sources import MemoryFramesSource, TestPatternSource
from vcamswap.errors import ConfigError, DeviceError, VCamSwapError
from vcamswap.inference import align
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.models import DetectedFace
from vcamswap.inference.store import ModelStore, Override
from vcamswap.pipeline.status import PipelineStats, Status, percentile
from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
from vcamswap.processors.base import (
    CopyProcessor,
    PassthroughProcessor,
    Processor,
    ProcessorChain,
)
from vcamswap.processors.engines import build_swap_processor, model_store, neural_loader
from vcamswap.processors.label import LabelStyle, SyntheticLabelProcessor
from vcamswap.processors.neural import (
    FaceDetector,
    NeuralModels,
    NeuralOptions,
    NeuralSwapProcessor,
)
from vcamswap.runtime import RuntimeState, Toggles
from vcamswap.samples import animate, sample_photo, sample_photo_path
from vcamswap.tools.bench.machine import busy_processes, machine
from vcamswap.types import BgrImage, FaceBox

WARMUP = 10
STAGES = ("detect", "landmarks", "embed", "swap", "enhance", "paste", "transfer", "total")


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
    swapper: str = "inswapper_128"
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
    import onnxruntime

    return {
        "requested": request.providers or "auto",
        "onnxruntime": onnxruntime.__version__,
        "available": onnxruntime.get_available_providers(),
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
) -> Processor:
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
    config.models.swapper = request.swapper  # type: ignore[assignment]
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
        ),
        stats,
    )
    return ProcessorChain(
        [neural],
        [SyntheticLabelProcessor(LabelStyle())],
        engine="neural",
        engine_reason="bench --engine neural",
    )


SWAPPING = ("lite", "neural")
DEGRADED_S = 10.0
"""A swap that stays degraded (a remote server that does not answer) this long fails."""


class BenchError(VCamSwapError):
    """The benchmark could not measure what it claims (the engine failed, nothing swapped)."""


def _wait_first_swap(supervisor: Supervisor, request: BenchRequest, stats: PipelineStats) -> None:
    """Until a frame with a swapped face came out of the processor; a processor that failed to
    start, or no swap within ``first_swap_s``, is an error naming the reason."""
    if request.engine not in SWAPPING:
        return
    started = time.monotonic()
    limit = request.first_swap_s
    while time.monotonic() < started + limit and not supervisor.stop_event.is_set():
        failed = supervisor.engine_failed
        if failed is not None:
            raise BenchError(f"the {request.engine} engine did not start: {failed}")
        if stats.swapped_frames:
            return
        degraded = supervisor.health.degraded
        if degraded and time.monotonic() > started + DEGRADED_S:
            raise BenchError(f"the {request.engine} engine cannot swap: {degraded}")
        time.sleep(0.01)
    why = supervisor.health.last_error
    raise BenchError(
        f"no face was swapped in {limit:.0f} s on {request.input}"
        + (f" (last error: {why})" if why else "")
        + "; use an input with a frontal face, or check the engine with "
        "`vcamswap doctor`"
    )


def _run_until_done(
    supervisor: Supervisor, request: BenchRequest, stats: PipelineStats, fps: float
) -> tuple[Status, float | None]:
    """Run, from the first swapped frame on: the warm-up, then ``frames`` timed frames
    (unpaced) or the time they take at the clip's rate (paced). Returns the status and when
    the timed window started (None: unknown, unpaced: the last ``frames`` processed ticks)."""
    _wait_first_swap(supervisor, request, stats)
    steady_from: float | None = None
    limit = time.monotonic() + 600.0
    if request.paced:
        start = stats.snapshot("running", "", "", None).frames_processed
        while (
            stats.snapshot("running", "", "", None).frames_processed < start + WARMUP
            and time.monotonic() < limit
            and not supervisor.stop_event.is_set()
        ):
            time.sleep(0.005)
        steady_from = time.monotonic()
        supervisor.wait(request.frames / fps)
    else:
        target = stats.snapshot("running", "", "", None).frames_processed + WARMUP + request.frames
        while (
            stats.snapshot("running", "", "", None).frames_processed < target
            and time.monotonic() < limit
            and not supervisor.stop_event.is_set()
        ):
            time.sleep(0.002)
    failed = supervisor.engine_failed
    status = supervisor.status()
    supervisor.stop()
    if failed is not None:
        raise BenchError(f"the {request.engine} engine stopped: {failed}")
    return status, steady_from


def steady_ticks(times: list[float], steady_from: float) -> list[float]:
    """Ticks from the steady state on: those at or after ``steady_from`` (past the first
    swapped frame and the warm-up). The output also ticks for the placeholder cards it sends
    (at 1.2 frame intervals) while the models load: counted, a slow start (CUDA graph capture,
    cuDNN's algorithm search) pulled a paced run's output rate below its input rate."""
    return [t for t in times if t >= steady_from]


def run_bench(request: BenchRequest, paths: AppPaths) -> dict[str, Any]:
    frames, fps = load_frames(request, paths)
    stats = PipelineStats(samples=max(600, request.frames + WARMUP + 10))
    source = MemoryFramesSource(frames, fps, f"{request.input} ({len(frames)} frames)")
    h, w = frames[0].shape[:2]
    options = PipelineOptions(
        output_fps=fps,
        default_size=(w, h),
        paced=request.paced,
        lockstep=not request.paced,
        max_frames=None,
        governor="auto" if request.governor == "auto" else "off",
    )
    supervisor = Supervisor(
        source,
        build_processor(request, paths, stats, (w, h)),
        NullSink(),
        TextCardRenderer(),
        options=options,
        stats=stats,
    )
    monitor = None
    with busy_processes(request.cpu_load):
        supervisor.start()
        if request.content_check_s:
            from vcamswap.safety.content import LiveContentMonitor, nudenet_classifier

            monitor = LiveContentMonitor(
                nudenet_classifier(),
                supervisor.last_input,
                lambda _verdict: None,
                supervisor.stop_event,
                request.content_check_s,
            )
            monitor.start()
        try:
            status, steady_from = _run_until_done(supervisor, request, stats, fps)
        finally:
            supervisor.stop()
    # Warm-up (sessions, source face, first allocations) and the frames before the first swap
    # are not the steady state a user sees: the timed window starts after both.
    processed = stats.tick_times("processed")
    if steady_from is None:  # unpaced: the last `frames` processed ticks (plus the start)
        steady_from = (
            processed[-(request.frames + 1)]
            if len(processed) > request.frames
            else (processed[0] if processed else 0.0)
        )
    window = steady_ticks(processed, steady_from)
    timed = max(0, len(window) - 1)

    def rate(name: str) -> float:
        times = steady_ticks(stats.tick_times(name), steady_from)
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    processed_fps, output_fps = rate("processed"), rate("out")
    swapped_times = stats.tick_times("swapped")
    in_window = [t for t in swapped_times if window and window[0] < t <= window[-1]]
    faces = stats.faces_per_swapped_frame()[-len(in_window) :] if in_window else []
    swapped = len(in_window)
    keep = max(1, timed)
    latencies = stats.latencies_ms()[-keep:]
    sent = steady_ticks(stats.tick_times("out"), steady_from)
    intervals = [(b - a) * 1000.0 for a, b in itertools.pairwise(sent)]
    samples = {k: v[-keep:] for k, v in stats.stage_samples().items()}
    has_faces = request.input == "sample" or request.pin_faces
    valid = (
        request.engine not in SWAPPING or not has_faces or (timed > 0 and swapped >= 0.9 * timed)
    )
    result: dict[str, Any] = {
        "engine": request.engine,
        "input": request.input,
        "size": f"{w}x{h}",
        "paced": request.paced,
        "frames": timed,
        "swapped_frames": swapped,
        "faces_swapped_mean": round(sum(faces) / timed, 3) if timed else 0.0,
        "valid": valid,
        "warmup_frames": WARMUP,
        "fps": round(processed_fps, 2),
        "output_fps": round(output_fps, 2),
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 2),
            "p95": round(percentile(latencies, 95), 2),
        },
        "stages_ms": {
            k: round(percentile(samples[k], 50), 3) if k in samples else None for k in STAGES
        },
        "faces_per_frame_requested": request.faces_per_frame,
        "dropped": status.dropped,
        "providers": providers_used(request),
        "governor": {
            "mode": request.governor,
            "final_level": status.governor.get("level"),
            "final_step": status.governor.get("name"),
            "changes": status.governor.get("changes"),
        },
        "cpu_load": request.cpu_load,
        "output_interval_ms": {
            "p50": round(percentile(intervals, 50), 2),
            "p95": round(percentile(intervals, 95), 2),
        },
        "content_check": None
        if monitor is None
        else {
            "interval_s": request.content_check_s,
            "checks": monitor.checks,
            "last_ms": round(monitor.last_ms, 2),
        },
        "machine": machine(),
    }
    return result
