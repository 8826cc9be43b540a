"""`vcamswap bench`: the live pipeline's three threads on a clip, measured from the first frame
with a swapped face on.

Unpaced (default): frames from memory as fast as the processor takes them (back-pressure, no
drops), into a null sink: throughput. ``--paced``: the clip at its own fps: output rate and
capture-to-sink latency as a video app would see them."""

from __future__ import annotations

import itertools
import time
from typing import Any

from vcamswap.config import AppPaths
from vcamswap.devices.imaging import TextCardRenderer
from vcamswap.devices.sinks import NullSink
from vcamswap.devices.sources import MemoryFramesSource
from vcamswap.errors import VCamSwapError
from vcamswap.pipeline.status import PipelineStats, Status, percentile
from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
from vcamswap.tools.bench.inputs import BenchRequest, build_processor, load_frames, providers_used
from vcamswap.tools.bench.machine import busy_processes, machine

WARMUP = 10
STAGES = (
    "detect",
    "landmarks",
    "embed",
    "parse",
    "swap",
    "enhance",
    "paste",
    "transfer",
    "total",
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
        "neural": None
        if request.engine != "neural"
        else {"swapper": request.swapper, "mask": request.mask, "resolution": request.resolution},
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
