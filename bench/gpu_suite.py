"""The issue-10 measurements in one process: `vcamswap bench` configurations on benchmark models.

    python bench/gpu_suite.py MODELS_FP32 MODELS_FP16 --providers cuda --frames 300
Prints one JSON object per configuration (the same object `vcamswap bench --json` prints).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vcamswap.bench import BenchRequest, run_bench
from vcamswap.config import AppPaths


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("fp32", type=Path)
    parser.add_argument("fp16", type=Path)
    parser.add_argument("--providers", default="cuda")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="1280x720")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    paths = AppPaths.under(Path(".gpu/home"))
    base = dict(engine="neural", input="sample", frames=args.frames, size=(w, h),
                providers=args.providers, pin_faces=True)
    configs = [
        ("fp16 1 face", dict(models=args.fp16, swapper="inswapper_128_fp16")),
        ("fp16 1 face cuda-graph", dict(models=args.fp16, swapper="inswapper_128_fp16",
                                        cuda_graph=True)),
        ("fp16 1 face detect every 2", dict(models=args.fp16, swapper="inswapper_128_fp16",
                                            detect_every=2)),
        ("fp16 1 face cuda-graph detect every 2", dict(
            models=args.fp16, swapper="inswapper_128_fp16", cuda_graph=True, detect_every=2)),
        ("fp16 4 faces", dict(models=args.fp16, swapper="inswapper_128_fp16",
                              faces_per_frame=4)),
        ("fp16 4 faces detect every 2", dict(models=args.fp16, swapper="inswapper_128_fp16",
                                             faces_per_frame=4, detect_every=2)),
        ("fp16 1 face + enhancer", dict(models=args.fp16, swapper="inswapper_128_fp16",
                                        enhancer=True)),
        ("fp16 1 face paced 30", dict(models=args.fp16, swapper="inswapper_128_fp16",
                                      paced=True, frames=min(args.frames, 240))),
        ("fp16 1 face detect async", dict(models=args.fp16, swapper="inswapper_128_fp16",
                                          detect_async=True)),
        ("fp16 1 face cuda-graph detect async", dict(
            models=args.fp16, swapper="inswapper_128_fp16", cuda_graph=True, detect_async=True)),
        ("fp16 4 faces detect async", dict(models=args.fp16, swapper="inswapper_128_fp16",
                                           faces_per_frame=4, detect_async=True)),
        ("fp16 1 face + enhancer detect async", dict(
            models=args.fp16, swapper="inswapper_128_fp16", enhancer=True, detect_async=True)),
        ("fp16 1 face paced 30 cuda-graph detect async", dict(
            models=args.fp16, swapper="inswapper_128_fp16", paced=True,
            frames=min(args.frames, 240), cuda_graph=True, detect_async=True)),
        ("fp16 1 face paced 30 cuda-graph detect every 2", dict(
            models=args.fp16, swapper="inswapper_128_fp16", paced=True,
            frames=min(args.frames, 240), cuda_graph=True, detect_every=2)),
    ]
    for label, extra in configs:
        request = BenchRequest(**{**base, **extra})  # type: ignore[arg-type]
        try:
            result = run_bench(request, paths)
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        result["config"] = label
        print(json.dumps(result, default=str))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
