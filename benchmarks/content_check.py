"""Milliseconds per content check on the CPU (the packaged NudeNet 320n through VCamSwap's own
session and processing), on the public-domain package photos scaled to 1280x720.

    python benchmarks/content_check.py --runs 5 --threads 1 0
"""

from __future__ import annotations

import argparse
import statistics
import time

import cv2

from vcamswap.safety.content import nudenet_classifier
from vcamswap.samples import sample_photo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1, 0],
        help="onnxruntime intra-op threads (0 = onnxruntime's default)",
    )
    args = parser.parse_args()
    frames = [cv2.resize(sample_photo(name), (1280, 720)) for name in ("astronaut", "grace_hopper")]
    for threads in args.threads:
        classifier = nudenet_classifier(threads=threads)
        for frame in frames:
            classifier.classify(frame)  # warm-up
        medians = []
        for _ in range(args.runs):
            times = []
            for i in range(args.calls):
                started = time.perf_counter()
                classifier.classify(frames[i % 2])
                times.append((time.perf_counter() - started) * 1000.0)
            medians.append(statistics.median(times))
        runs = ", ".join(f"{m:.1f}" for m in medians)
        print(
            f"threads={threads or 'default'}: per-run medians {runs} ms; "
            f"median {statistics.median(medians):.1f} ms per check"
        )


if __name__ == "__main__":
    main()
