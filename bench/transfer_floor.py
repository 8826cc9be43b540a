"""Frame transfers between host and device, pageable against pinned host memory, to decide
whether pinned buffers pay in the device path (issue 10 names them; unmeasured so far).

    python bench/transfer_floor.py --runs 200 [--size 1280x720]
Prints one JSON object per way (p50/p95 ms):
  upload pageable          OrtValue.update_inplace(frame)   (what DevicePath does now)
  upload pinned + copy     frame -> pinned staging (host memcpy), cudaMemcpy H2D
  upload pinned only       cudaMemcpy H2D from pinned memory (a capture writing into it)
  download pageable        OrtValue.numpy()                 (what DevicePath does now)
  download pinned + copy   cudaMemcpy D2H into pinned staging, then a copy the caller owns
  download pinned only     cudaMemcpy D2H into pinned memory
Pinned rows need libcudart (the CUDA runtime onnxruntime-gpu loads); without it, or without a
CUDA provider that starts, only the pageable rows run (on the CPU: a dry run of the script).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import onnxruntime as ort

from vcamswap.inference.session import probe_providers
from vcamswap.pipeline.status import percentile

H2D, D2H = 1, 2


def cudart() -> Any | None:
    for name in ("libcudart.so.13", "libcudart.so.12", "libcudart.so"):
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def timed(step: Callable[[], object], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs + 5):
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1000.0)
    times = times[5:]
    return {"p50_ms": round(statistics.median(times), 3),
            "p95_ms": round(percentile(times, 95), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--size", default="1280x720")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    device = "cuda" if "CUDAExecutionProvider" in probe_providers(["cuda"]) else "cpu"
    frame = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    value = ort.OrtValue.ortvalue_from_shape_and_type((h, w, 3), np.uint8, device, 0)
    common = {"frame": args.size, "device": device, "onnxruntime": ort.__version__}

    def row(way: str, step: Callable[[], object]) -> None:
        print(json.dumps({"way": way, **timed(step, args.runs), **common}), flush=True)

    row("upload pageable", lambda: value.update_inplace(frame))
    row("download pageable", value.numpy)
    lib = cudart() if device == "cuda" else None
    if lib is None:
        print(json.dumps({"way": "pinned", "error": "no libcudart or no CUDA here", **common}))
        return
    lib.cudaHostRegister.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint]
    lib.cudaHostUnregister.argtypes = [ctypes.c_void_p]
    lib.cudaMemcpy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    staging = np.empty_like(frame)
    host = staging.ctypes.data
    error = lib.cudaHostRegister(host, staging.nbytes, 0)
    if error:
        print(json.dumps({"way": "pinned", "error": f"cudaHostRegister returned {error}",
                          **common}))
        return
    device_ptr, size = value.data_ptr(), staging.nbytes

    def copy(dst: int, src: int, kind: int) -> None:
        if lib.cudaMemcpy(dst, src, size, kind):
            raise RuntimeError("cudaMemcpy failed")

    def upload_copy() -> None:
        np.copyto(staging, frame)
        copy(device_ptr, host, H2D)

    def download_copy() -> np.ndarray[Any, Any]:
        copy(host, device_ptr, D2H)
        return staging.copy()

    try:
        row("upload pinned + copy", upload_copy)
        row("upload pinned only", lambda: copy(device_ptr, host, H2D))
        row("download pinned + copy", download_copy)
        row("download pinned only", lambda: copy(host, device_ptr, D2H))
        value.update_inplace(frame)
        copy(host, device_ptr, D2H)
        print(json.dumps({"way": "check", "pinned download equals frame":
                          bool(np.array_equal(staging, frame)), **common}))
    finally:
        lib.cudaHostUnregister(host)


if __name__ == "__main__":
    main()
