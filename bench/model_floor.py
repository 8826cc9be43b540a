"""Time session.run alone for any ONNX model with random inputs of its declared shapes
(symbolic dimensions become 1). Prints one JSON line.

    python bench/model_floor.py MODEL.onnx [--providers cuda] [--runs 100]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--providers", default="cuda")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    names = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(args.model, options,
                                   providers=[names[p] for p in args.providers.split(",")])
    feeds = {}
    for item in session.get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in item.shape]
        dtype = np.float16 if "float16" in item.type else np.float32
        feeds[item.name] = np.random.rand(*shape).astype(dtype)
    for _ in range(5):
        session.run(None, feeds)
    samples = []
    for _ in range(args.runs):
        start = time.perf_counter()
        session.run(None, feeds)
        samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    profile_nodes = None
    print(json.dumps({"model": args.model, "providers": session.get_providers(),
                      "p50_ms": round(samples[len(samples) // 2], 3),
                      "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3),
                      "inputs": {k: list(v.shape) for k, v in feeds.items()},
                      "cpu_nodes": profile_nodes}))


if __name__ == "__main__":
    main()
