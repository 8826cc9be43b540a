"""Issue 4's benchmark: per-frame pipeline overhead (everything but session.run) at 1280x720
with one face, ours beside insightface 2.1's ``INSwapper.get(paste_back=True)``, on the same
frame, face and model, in one run. Models are the small generated ones from tests/onnx_models.py;
session.run time is measured and subtracted, so the model's own speed does not matter.

    python benchmarks/overhead.py [--runs 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.onnx_models import make_inswapper
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.models import InSwapper
from vcamswap.inference.onnxfile import read_emap
from vcamswap.ports import DetectedFace
from vcamswap.processors.neural import NeuralModels, NeuralSwapProcessor
from vcamswap.runtime import RuntimeState
from vcamswap.samples import sample_photo, sample_photo_path
from vcamswap.types import FaceBox, Frame


class TimedSession:
    """Wraps an onnxruntime session and adds up the time spent inside run()."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self.spent = 0.0

    def run(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self._session.run(*args, **kwargs)
        finally:
            self.spent += time.perf_counter() - start

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    from insightface.model_zoo.inswapper import INSwapper as Reference

    folder = Path(tempfile.mkdtemp())
    path = make_inswapper(folder / "inswapper_128.onnx", identity=False)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    frame = cv2.resize(sample_photo("astronaut"), (720, 720))
    frame = cv2.copyMakeBorder(frame, 0, 0, 280, 280, cv2.BORDER_REPLICATE)  # 1280x720
    scale = 720 / 512
    kps = np.array(
        [[188, 189], [279, 190], [231, 244], [193, 290], [271, 290]], np.float32
    ) * scale + (280, 0)  # the astronaut's eyes, nose, mouth corners
    (left, top), (right, bottom) = kps.min(0) - 60, kps.max(0) + 60
    face = DetectedFace(FaceBox(float(left), float(top), float(right), float(bottom), 0.9), kps)

    ours_session = TimedSession(
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    )
    swapper = InSwapper(ours_session, CATALOG["inswapper_128"], read_emap(path), path)

    class Fixed:
        def resize(self, size: int | None) -> None:
            return None

        def detect(self, image: Any) -> list[DetectedFace]:
            return [face]

    class Embed:
        def embed(self, image: Any, points: Any) -> Any:
            v = np.ones(512, np.float32)
            return v / np.linalg.norm(v)

        def embed_raw(self, image: Any, points: Any) -> Any:
            return np.ones(512, np.float32)

    source = sample_photo_path("grace_hopper")
    processor = NeuralSwapProcessor(
        lambda: NeuralModels(Fixed(), Embed(), swapper), lambda _n: source, RuntimeState()
    )
    processor.start()
    ref_session = TimedSession(
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    )
    reference = Reference(str(path), session=ref_session)

    class RefFace:
        kps = face.kps
        normed_embedding = np.full(512, 1.0 / np.sqrt(512.0), dtype=np.float32)

    def measure(fn: Any, session: TimedSession) -> list[float]:
        for _ in range(5):
            fn()
        samples = []
        for _ in range(args.runs):
            session.spent = 0.0
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start - session.spent) * 1000.0)
        return samples

    ours = measure(lambda: processor.process(Frame(frame, 0, 0.0)), ours_session)
    theirs = measure(
        lambda: reference.get(frame, RefFace(), RefFace(), paste_back=True), ref_session
    )
    result = {
        "frame": "1280x720",
        "faces": 1,
        "runs": args.runs,
        "ours_overhead_ms": {
            "p50": round(statistics.median(ours), 3),
            "p95": round(sorted(ours)[int(0.95 * len(ours)) - 1], 3),
        },
        "insightface_overhead_ms": {
            "p50": round(statistics.median(theirs), 3),
            "p95": round(sorted(theirs)[int(0.95 * len(theirs)) - 1], 3),
        },
        "ratio_p50": round(statistics.median(ours) / statistics.median(theirs), 3),
        "note": "ours: crop, blob, colour transfer, paste-back inside the box (no detection); "
        "insightface: norm_crop2, blob, full-frame warps and masks",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
