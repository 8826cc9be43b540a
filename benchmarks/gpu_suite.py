"""The neural engine's GPU measurements in one process: `vcamswap bench` configurations (host
and device path, 1 and 4 faces, the enhancer, paced 30 fps, CUDA graphs, fp32, the parser mask,
pixel boost, GHOST) on the benchmark models from make_models.py and make_quality_models.py.

    python benchmarks/gpu_suite.py MODELS_FP32 MODELS_FP16 --providers cuda --frames 300

Prints one JSON object per configuration (the same object `vcamswap bench --json` prints, plus
"config" and "repeat"), flushed row by row. `benchmarks/gpu_run.sh` runs it on a CUDA machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

from vcamswap.config import AppPaths
from vcamswap.tools.bench import BenchRequest, run_bench


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("fp32", type=Path)
    parser.add_argument("fp16", type=Path)
    parser.add_argument("--providers", default="cuda")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument(
        "--tensorrt",
        action="store_true",
        help="also the TensorRT provider (engine build takes minutes)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the chosen configurations this many times (rows say which)",
    )
    parser.add_argument(
        "--only",
        nargs="*",
        default=[],
        help="run the configurations whose label contains one of these",
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="VCamSwap's folders for the runs (the models' digest cache); default: a temporary one",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vcamswap-bench-") as tmp:
        run_all(args, AppPaths.under(args.home or Path(tmp)))


def run_all(args: argparse.Namespace, paths: AppPaths) -> None:
    w, h = (int(v) for v in args.size.split("x"))
    base = dict(
        engine="neural",
        input="sample",
        frames=args.frames,
        size=(w, h),
        providers=args.providers,
        pin_faces=True,
    )
    f16 = dict(models=args.fp16, swapper="inswapper_128_fp16", detect_async=True)
    # cuda_graph is on by default: rows without "cuda-graph" in their label turn it off.
    host = dict(device_compositing="off", cuda_graph=False)
    # "on", not "auto": the same on CUDA, and a dry run on a CPU machine still takes the device
    # path (auto keeps CPUs on OpenCV), so the script is checked before GPU time is spent on it.
    dev = dict(device_compositing="on", cuda_graph=False)
    paced = dict(paced=True, frames=min(args.frames, 240))
    configs: list[tuple[str, dict[str, object]]] = [
        # Device compositing (crop, colour, paste, enhancer on the GPU) against the host path,
        # each with SCRFD on a side thread as in a live run.
        ("1 face host", {**f16, **host}),
        ("1 face device", {**f16, **dev}),
        ("1 face device cuda-graph", {**f16, **dev, "cuda_graph": True}),
        ("4 faces host", {**f16, **host, "faces_per_frame": 4}),
        ("4 faces device", {**f16, **dev, "faces_per_frame": 4}),
        # many faces: the compositing graphs are captured, the swapper is not
        ("4 faces device cuda-graph", {**f16, **dev, "faces_per_frame": 4, "cuda_graph": True}),
        ("1 face + enhancer host", {**f16, **host, "enhancer": True}),
        ("1 face + enhancer device", {**f16, **dev, "enhancer": True}),
        (
            "1 face + enhancer device cuda-graph",
            {**f16, **dev, "enhancer": True, "cuda_graph": True},
        ),
        ("1 face paced 30 host", {**f16, **host, **paced}),
        ("1 face paced 30 device cuda-graph", {**f16, **dev, **paced, "cuda_graph": True}),
        ("1 face device fp32", dict(models=args.fp32, detect_async=True, **dev)),
        # Neural quality (issue 27): the face-parser mask on every frame, pixel boost 256 / 512,
        # 1 and 4 faces, fp16 (the parser and GHOST come from make_quality_models.py).
        ("1 face parser device cuda-graph", {**f16, **dev, "mask": "parser", "cuda_graph": True}),
        ("4 faces parser device", {**f16, **dev, "mask": "parser", "faces_per_frame": 4}),
        ("1 face boost 256 device", {**f16, **dev, "resolution": 256}),
        ("4 faces boost 256 device", {**f16, **dev, "resolution": 256, "faces_per_frame": 4}),
        ("1 face boost 512 device", {**f16, **dev, "resolution": 512}),
        ("4 faces boost 512 device", {**f16, **dev, "resolution": 512, "faces_per_frame": 4}),
        ("1 face ghost device", {**f16, **dev, "swapper": "ghost_3_256"}),
    ]
    if args.tensorrt:  # TensorRT builds its engines on first use (minutes; cached after)
        configs.append(("1 face device tensorrt", {**f16, **dev, "providers": "tensorrt,cuda"}))
    if args.only:  # "a|b" as one argument: labels containing a or b (labels have spaces)
        words = [word for arg in args.only for word in arg.split("|")]
        configs = [
            (label, extra) for label, extra in configs if any(word in label for word in words)
        ]
    for repeat, (label, extra) in itertools.product(range(args.repeat), configs):
        request = BenchRequest(**{**base, **extra})
        try:
            result = run_bench(request, paths)
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        result["config"] = label
        result["repeat"] = repeat
        print(json.dumps(result, default=str))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
