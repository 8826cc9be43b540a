"""The invisible watermark: robustness, false positives, visibility and cost.

    python -m benchmarks.provenance [--seconds 10] [--json]

(from the repository root; it uses tests/helpers/marks.py). A 1280x720 clip of the package
portraits is marked with VCamSwap's watermarker, then:

- H.264 (libx264) at 1 Mbit/s; scaled to 640x360 (kept small, and scaled back up) and
  re-encoded at crf 23; every frame as a 90% JPEG: the share of 2-second windows (videos) or
  frames (JPEG) where ``vcamswap verify``'s reader finds the mark;
- unmarked frames (the clip itself and re-encoded, the package photos at two sizes,
  generated scenes): how many are reported marked, and the highest z-score seen;
- PSNR of marked against unmarked frames; embedding time per 1280x720 frame (median of runs).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import cv2
import numpy as np

from tests.helpers.marks import (
    decode,
    encode,
    generated_scenes,
    jpeg,
    package_images,
    portrait_clip,
    psnr,
    rescaled,
)
from vcamswap.offline.verify import read_frames
from vcamswap.safety.watermark import THRESHOLD, Codebook, Watermarker


def windows(
    codebook: Codebook, frames: list[np.ndarray[Any, Any]], fps: int = 30
) -> dict[str, Any]:
    report = read_frames(codebook, ((i / fps, f) for i, f in enumerate(frames)))
    return {
        "windows": report.windows,
        "windows_found": report.windows_found,
        "window_share": round(report.windows_found / max(report.windows, 1), 3),
        "frame_share": round(report.share, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    codebook = Codebook()
    marker = Watermarker(codebook)
    clip = portrait_clip(args.seconds)
    marked = [marker.mark(f) for f in clip]
    results: dict[str, Any] = {"frames": len(clip), "threshold": THRESHOLD}
    results["psnr_db"] = {
        "min": round(min(psnr(m, f) for m, f in zip(marked, clip, strict=True)), 2),
        "median": round(
            statistics.median(psnr(m, f) for m, f in zip(marked, clip, strict=True)), 2
        ),
    }
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for image in clip[:60]:
            marker.mark(image)
        runs.append((time.perf_counter() - start) / 60 * 1000)
    results["embed_ms_1280x720"] = round(statistics.median(runs), 3)
    work = clip[0].copy()
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _i in range(60):
            marker.mark_in_place(work)
        runs.append((time.perf_counter() - start) / 60 * 1000)
    results["embed_in_place_ms_1280x720"] = round(statistics.median(runs), 3)
    x264 = decode(encode(marked, bit_rate=1_000_000))
    results["x264_1mbit"] = windows(codebook, x264)
    small = [rescaled(m, (640, 360), back=False) for m in marked]
    results["scaled_640x360_crf23"] = windows(codebook, decode(encode(small, crf=23)))
    back = [rescaled(m, (640, 360)) for m in marked]
    results["scaled_640x360_and_back_crf23"] = windows(codebook, decode(encode(back, crf=23)))
    jpegs = [codebook.read(jpeg(m, 90)).found for m in marked]
    results["jpeg90_frame_share"] = round(sum(jpegs) / len(jpegs), 3)
    unmarked: list[np.ndarray[Any, Any]] = list(clip)
    unmarked += decode(encode(clip, bit_rate=1_000_000))
    photos = package_images()
    unmarked += photos + [cv2.resize(p, (1280, 720)) for p in photos]
    unmarked += [jpeg(p, 90) for p in photos]
    unmarked += generated_scenes(300)
    scores = [codebook.read(image) for image in unmarked]
    results["false_positives"] = {
        "frames": len(unmarked),
        "reported_marked": sum(r.found for r in scores),
        "max_z": round(max(r.z for r in scores), 2),
        "p99_z": round(float(np.percentile([r.z for r in scores], 99)), 2),
    }
    print(json.dumps(results, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
