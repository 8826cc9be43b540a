"""Where one frame's time goes: the `vcamswap bench` processor (neural swap + label) called on
the main thread, without the pipeline's other threads, timed and then profiled.

    python bench/device_profile.py MODELS_FP16 --providers cuda --frames 300 > profile.txt
Per variant: one JSON line (per-frame wall ms p50/p95 alone on the thread, stage p50s), then
the profile's top functions by own time. A frame costing more here than the bench's stage sum
points at the processor; the bench's 'total' costing more than here points at the other threads.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from concurrent.futures import Future
from pathlib import Path

from vcamswap.tools.bench import BenchRequest, build_processor, load_frames
from vcamswap.config import AppPaths
from vcamswap.inference.devicepath import DevicePath
from vcamswap.pipeline.status import PipelineStats, percentile
from vcamswap.types import BgrImage, Frame


def inline_copy(_self: DevicePath, image: BgrImage) -> Future[BgrImage]:
    """DevicePath._copy_of without the helper thread (the A/B of that change)."""
    done: Future[BgrImage] = Future()
    done.set_result(image.copy())
    return done


def profile(request: BenchRequest, label: str, top: int) -> None:
    paths = AppPaths.under(Path(".gpu/home"))
    frames, _fps = load_frames(request, paths)
    h, w = frames[0].shape[:2]
    stats = PipelineStats(samples=4 * request.frames + 100)
    processor = build_processor(request, paths, stats, (w, h))
    processor.start()
    try:
        def one(index: int) -> float:
            frame = Frame(frames[index % len(frames)], time.monotonic(), index)
            started = time.perf_counter()
            processor.process(frame)
            return (time.perf_counter() - started) * 1000.0

        for index in range(20):  # sessions, captures, first allocations
            one(index)
        walls = [one(index) for index in range(request.frames)]
        stages = {k: round(percentile(v[20:], 50), 3)
                  for k, v in stats.stage_samples().items() if len(v) > 20}
        print(json.dumps({"config": label, "wall_ms": {
            "p50": round(percentile(walls, 50), 3), "p95": round(percentile(walls, 95), 3)},
            "stages_ms": stages}))
        profiler = cProfile.Profile()
        profiler.enable()
        for index in range(request.frames):
            one(index)
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
        print(f"--- {label}: profile of {request.frames} frames, by own time")
        print("\n".join(line for line in text.getvalue().splitlines()[4:] if line.strip()))
        sys.stdout.flush()
    finally:
        processor.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("fp16", type=Path)
    parser.add_argument("--providers", default="cuda")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--top", type=int, default=28)
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    base = dict(engine="neural", input="sample", frames=args.frames, size=(w, h),
                providers=args.providers, pin_faces=True, models=args.fp16,
                swapper="inswapper_128_fp16", device_compositing="on", cuda_graph=True)
    variants: list[tuple[str, dict[str, object]]] = [
        ("1 face device cuda-graph, detect async", {"detect_async": True}),
        ("1 face device cuda-graph, no detection", {"detect_every": 100000}),
        ("1 face device cuda-graph, no detection, copy inline", {"detect_every": 100000}),
        ("1 face host, no detection", {"detect_every": 100000, "device_compositing": "off",
                                       "cuda_graph": False}),
    ]
    threaded = DevicePath._copy_of
    for label, extra in variants:
        DevicePath._copy_of = inline_copy if "copy inline" in label else threaded  # type: ignore[method-assign]
        try:
            profile(BenchRequest(**{**base, **extra}), label, args.top)  # type: ignore[arg-type]
        except Exception as exc:
            print(json.dumps({"config": label, "error": f"{type(exc).__name__}: {exc}"}))
    DevicePath._copy_of = threaded  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
