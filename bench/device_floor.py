"""Device compositing graphs alone: crop and paste at 1280x720 for 1 and 4 faces, and the
enhancer's 512 px paste, on the given providers; plus whether onnxruntime places every node on
the first provider (created once more with CPU fallback disabled).

    python bench/device_floor.py --providers cuda --runs 200
Prints one JSON object per graph: p50/p95 ms of ``run_with_iobinding`` with device buffers.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort

from vcamswap.inference import align, devicegraphs
from vcamswap.inference.devicepath import frame_window, to_window
from vcamswap.inference.session import probe_providers, resolve_providers
from vcamswap.pipeline.status import percentile


def session(data: bytes, providers: list[str], strict: bool = False,
            graph: bool = False) -> Any:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if strict:  # fails naming the first node that would run on the CPU
        options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
        providers = [p for p in providers if p != "CPUExecutionProvider"]
    chosen: list[Any] = [(p, {"enable_cuda_graph": "1"}) if graph and
                         p == "CUDAExecutionProvider" else p for p in providers]
    return ort.InferenceSession(data, options, providers=chosen)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--providers", default="cuda")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--face", type=float, default=0.5,
                        help="face scale: the 112 px ArcFace template times frame height x this")
    args = parser.parse_args()
    providers = list(resolve_providers(args.providers.split(","),
                                       ort.get_available_providers()).providers)
    # where the sessions really run (onnxruntime-gpu lists CUDA also when its libraries are
    # missing, and then runs on the CPU)
    device = "cuda" if "CUDAExecutionProvider" in probe_providers(providers) else "cpu"
    if device == "cpu" and providers[0] != "CPUExecutionProvider":
        print(json.dumps({"error": f"{providers[0]} does not start here: the CPU runs these "
                          "graphs (see `vcamswap doctor`)"}), flush=True)
    w, h = (int(v) for v in args.size.split("x"))
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    # --face 0.5: the aligned crop spans half the frame height (a face close to a webcam)
    kps = (align.ARCFACE_112 - 56.0) * (h * args.face / 112.0) + (w / 2, h / 2)
    cases = [("crop 128", 128, n, "crop") for n in (1, 4)] + \
        [("paste 128", 128, n, "paste") for n in (1, 4)] + [("paste 512", 512, 1, "paste")] + \
        [("paste 128 window", 128, n, "window") for n in (1, 4)] + \
        [("paste 512 window", 512, 1, "window"), ("letterbox 640", 640, 1, "letterbox")]
    variants = ["dynamic", "fixed"] + (["fixed + cuda graph"] if device == "cuda" else [])
    for (label, size, faces, kind), variant in itertools.product(cases, variants):
        if kind == "letterbox" and variant != "dynamic":
            continue  # built for any size only
        shape = None if variant == "dynamic" else (h, w, faces)
        window: tuple[int, int] = (h, w)
        origin: tuple[int, int] = (0, 0)
        if kind == "crop":
            data = devicegraphs.crop_graph(size, 0.0, 255.0, np.float16, shape)
        elif kind in ("paste", "window"):
            m = align.estimate_norm(kps, size, "arcface_128" if size == 128 else "ffhq_512")
            found, at, _side = frame_window([(cv2.invertAffineTransform(m), size)], (h, w))
            if kind == "window" and found is not None:
                window, origin = found, at
            if shape is not None:
                shape = (*window, faces)
            data = devicegraphs.paste_graph(size, 0.0, 1.0, np.float16, shape)
        else:
            data = devicegraphs.letterbox_graph(127.5, 128.0, np.float32)
        placement = "cpu"
        if device != "cpu":
            try:
                session(data, providers, strict=True)
                placement = f"all nodes on {providers[0]}"
            except Exception as exc:  # the reason names the node that would fall back
                placement = f"fallback: {str(exc)[:300]}"
        try:
            sess = session(data, providers, graph="graph" in variant)
        except Exception as exc:
            print(json.dumps({"graph": label, "variant": variant, "error": str(exc)[:300]}))
            continue
        m = align.estimate_norm(kps, size, "arcface_128" if size == 128 else "ffhq_512")
        feeds: dict[str, np.ndarray[Any, Any]] = {"frame": frame}
        if kind == "letterbox":
            new_h = size * h // w
            feeds.update(sizes=np.array([1, 3, new_h, size], np.int64),
                         pads=np.array([0, 0, 0, 0, 0, 0, size - new_h, 0], np.int64))
            outs: dict[str, tuple[tuple[int, ...], Any]] = {
                "blob": ((1, 3, size, size), np.float32)}
        elif kind == "crop":
            feeds["inverse"] = np.stack([cv2.invertAffineTransform(m)] * faces).astype(
                np.float32)
            outs = {"blob": ((faces, 3, size, size), np.float16),
                    "crop": ((faces, size, size, 3), np.float32)}
        else:
            feeds.update(face=rng.random((faces, 3, size, size)).astype(np.float16),
                         crop=rng.random((faces, size, size, 3)).astype(np.float32) * 255,
                         alpha=np.stack([align.feather_mask(size)] * faces),
                         params=np.array([1.0, 0.0], np.float32))
            # the device path uploads only the window and shifts the matrices to it
            feeds["frame"] = np.ascontiguousarray(
                frame[origin[0]:origin[0] + window[0], origin[1]:origin[1] + window[1]])
            feeds["matrix"] = np.stack(
                [to_window(m, np.array([origin[1], origin[0]], np.float64))] * faces
            ).astype(np.float32)
            outs = {"out": ((*window, 3), np.uint8)}
        try:
            row = measure(sess, feeds, outs, device, args.runs)
        except Exception as exc:
            print(json.dumps({"graph": label, "variant": variant, "error": str(exc)[:300]}))
            continue
        print(json.dumps({"graph": label, "faces": faces, "variant": variant,
                          "window": window if kind == "window" else None,
                          "frame": args.size, "providers": sess.get_providers(),
                          "placement": placement, **row,
                          "onnxruntime": ort.__version__}), flush=True)


def measure(sess: Any, feeds: dict[str, Any], outs: dict[str, Any], device: str,
            runs: int) -> dict[str, float]:
    """p50/p95 ms of run_with_iobinding with every input and output in ``device`` memory."""
    binding = sess.io_binding()
    keep = []  # the buffers must outlive the binding
    for name, value in feeds.items():
        keep.append(ort.OrtValue.ortvalue_from_numpy(value, device, 0))
        binding.bind_ortvalue_input(name, keep[-1])
    for name, (out_shape, dtype) in outs.items():
        keep.append(ort.OrtValue.ortvalue_from_shape_and_type(out_shape, dtype, device, 0))
        binding.bind_ortvalue_output(name, keep[-1])
    times = []
    for _ in range(runs + 5):
        started = time.perf_counter()
        sess.run_with_iobinding(binding)
        times.append((time.perf_counter() - started) * 1000.0)
    times = times[5:]
    return {"p50_ms": round(statistics.median(times), 3),
            "p95_ms": round(percentile(times, 95), 3)}


if __name__ == "__main__":
    main()
