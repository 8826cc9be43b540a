"""Pixel boost's cost on the host path, one aligned face on a 1280x720 frame, per
``swap.resolution`` (the swap and paste stages as `vcamswap bench` records them), with the
benchmark swapper of make_models.py (the real inswapper's size). `vcamswap bench --resolution`
measures the whole pipeline; at 512 px on a CPU one frame takes most of a minute, so this
times only the compositor.

    python benchmarks/pixel_boost.py MODELS_DIR [--runs 3] [--resolutions 128 256 512]

Prints one JSON object per resolution: the median and each run's swap and paste milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from vcamswap.compositing import FaceJob, HostCompositor, Look
from vcamswap.inference import align
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.models import InSwapper
from vcamswap.inference.onnxfile import read_emap
from vcamswap.samples import sample_photo

KPS = np.array([[560, 300], [720, 300], [640, 390], [575, 470], [705, 470]], np.float64)


class Stages:
    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    def record_stage(self, name: str, ms: float) -> None:
        self.ms[name] = ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--resolutions", type=int, nargs="*", default=[128, 256, 512])
    args = parser.parse_args()
    path = args.models / "inswapper_128.onnx"
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    host = HostCompositor(InSwapper(session, CATALOG["inswapper_128"], read_emap(path)))
    frame = cv2.resize(sample_photo("astronaut"), (1280, 720))
    latent = np.full((1, 512), 1 / np.sqrt(512.0), np.float32)
    for resolution in args.resolutions:
        tiles = resolution // 128
        job = FaceJob([KPS], [align.estimate_norm(KPS, 128, "arcface_128") * tiles], latent, tiles)
        host.composite(frame, job, Look(), None, Stages())  # warm-up
        runs = []
        for _ in range(args.runs):
            stages = Stages()
            host.composite(frame, job, Look(), None, stages)
            runs.append(stages.ms)
        row = {
            "resolution": resolution,
            "tiles": tiles * tiles,
            **{
                f"{k}_ms": round(statistics.median(r[k] for r in runs), 1)
                for k in ("swap", "paste")
            },
            "runs": runs,
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
