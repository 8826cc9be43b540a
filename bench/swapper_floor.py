"""The bare swapper call: session.run on a 1x3x128x128 crop, the floor the pipeline is judged
against. Prints JSON lines: variant, median and p95 ms over N runs.

    python bench/swapper_floor.py MODEL.onnx --providers cuda --runs 200 [--batch 4]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def timed(fn: object, runs: int) -> tuple[float, float]:
    for _ in range(10):
        fn()  # type: ignore[operator]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--providers", default="cuda")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    names = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider",
             "tensorrt": "TensorrtExecutionProvider"}
    providers = [names[p] for p in args.providers.split(",")]
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(args.model, options, providers=providers)
    dtype = np.float16 if "float16" in session.get_inputs()[0].type else np.float32
    target = np.random.rand(args.batch, 3, 128, 128).astype(dtype)
    source = np.random.rand(args.batch, 512).astype(dtype)
    feeds = {"target": target, "source": source}
    device = "cuda" if providers[0] == "CUDAExecutionProvider" else "cpu"
    results = {"model": args.model, "batch": args.batch, "providers": session.get_providers(),
               "onnxruntime": ort.__version__}
    results["run_ms"] = timed(lambda: session.run(None, feeds), args.runs)
    binding = session.io_binding()
    values = {}
    for name, value in feeds.items():
        values[name] = ort.OrtValue.ortvalue_from_numpy(value, device, 0)
        binding.bind_ortvalue_input(name, values[name])
    out = ort.OrtValue.ortvalue_from_shape_and_type(target.shape, dtype, device, 0)
    binding.bind_ortvalue_output("output", out)
    results["iobinding_device_only_ms"] = timed(lambda: session.run_with_iobinding(binding),
                                                args.runs)

    def with_copies() -> None:
        values["target"].update_inplace(target)
        values["source"].update_inplace(source)
        session.run_with_iobinding(binding)
        out.numpy()
    results["iobinding_with_copies_ms"] = timed(with_copies, args.runs)
    if device == "cuda":
        graph_session = ort.InferenceSession(
            args.model, options,
            providers=[("CUDAExecutionProvider", {"enable_cuda_graph": "1"})])
        gb = graph_session.io_binding()
        gvalues = {n: ort.OrtValue.ortvalue_from_numpy(v, "cuda", 0) for n, v in feeds.items()}
        for name, value in gvalues.items():
            gb.bind_ortvalue_input(name, value)
        gout = ort.OrtValue.ortvalue_from_shape_and_type(target.shape, dtype, "cuda", 0)
        gb.bind_ortvalue_output("output", gout)

        def graph_run() -> None:
            gvalues["target"].update_inplace(target)
            graph_session.run_with_iobinding(gb)
            gout.numpy()
        try:
            results["cuda_graph_with_copies_ms"] = timed(graph_run, args.runs)
        except Exception as exc:  # report, do not hide: some graphs cannot be captured
            results["cuda_graph_error"] = str(exc)[:300]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
