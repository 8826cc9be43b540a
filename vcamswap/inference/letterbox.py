"""SCRFD fed from the uint8 frame on its own device: the letterbox (resize, pad, normalise) as a
small ONNX graph chained to the detector through IO binding."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from vcamswap.inference.devicebind import SessionMaker, bind, buffer
from vcamswap.inference.onnxgraph import GraphBuilder, tensor_type, value_info
from vcamswap.inference.session import input_dtype
from vcamswap.types import BgrImage

MAX_SHAPES = 6
"""Frame shapes whose buffers are kept (source photos come in any size)."""


def letterbox_graph(mean: float, std: float, blob_dtype: Any = np.float32) -> bytes:
    """SCRFD's input on the device. Inputs ``frame`` uint8 [H, W, 3] (BGR), ``sizes`` int64
    [4] = (1, 3, new_h, new_w), ``pads`` int64 [8] (bottom/right padding to the square).
    Output ``blob`` [1, 3, S, S]: resized (bilinear, half-pixel centres as cv2.resize),
    zero-padded, RGB, (x - mean) / std."""
    g = GraphBuilder()
    nchw = g.op(
        "Unsqueeze",
        g.op("Transpose", g.op("Cast", "frame", to=1), perm=[2, 0, 1]),
        g.const([0], np.int64),
    )
    rgb = g.op("Gather", nchw, g.const([2, 1, 0], np.int64), axis=1)
    resized = g.op(
        "Resize", rgb, "", "", "sizes", mode="linear", coordinate_transformation_mode="half_pixel"
    )
    padded = g.op("Pad", resized, "pads", mode="constant")
    normed = g.op("Div", g.op("Sub", padded, g.const(mean)), g.const(std))
    g.op("Cast", normed, to=tensor_type(blob_dtype), out="blob")
    from onnx import TensorProto, helper

    return g.model(
        [
            value_info("frame", np.uint8, ["H", "W", 3]),
            helper.make_tensor_value_info("sizes", TensorProto.INT64, [4]),
            helper.make_tensor_value_info("pads", TensorProto.INT64, [8]),
        ],
        [value_info("blob", blob_dtype, [1, 3, "S", "S"])],
        "vcamswap_letterbox",
    )


class DeviceLetterbox:
    """SCRFD fed from the uint8 frame: the letterbox (resize, pad, normalise) runs on the
    detector's device and is chained to the detector through IO binding; only the nine score,
    box and keypoint maps come back. Thread-safe (the detection thread and a source-photo
    prefetch may detect at once)."""

    def __init__(
        self,
        make: SessionMaker,
        detector: Any,
        mean: float,
        std: float,
        device: str = "cuda",
        device_id: int = 0,
    ) -> None:
        self.device = device
        self._device_id = device_id
        self._dtype = input_dtype(detector)
        self._graph = make(letterbox_graph(mean, std, self._dtype), "device letterbox", False)
        self._detector = detector
        self._input = detector.get_inputs()[0].name
        self._frame_name = self._graph.get_inputs()[0].name
        self._outputs = [o.name for o in detector.get_outputs()]
        self._lock = threading.Lock()
        self._sets: dict[tuple[int, int, int], tuple[Any, Any, list[Any]]] = {}

    def _set(self, h: int, w: int, size: int) -> tuple[Any, Any, list[Any]]:
        """(letterbox binding, detector binding, [frame, sizes, pads]) for this shape; at most
        MAX_SHAPES shapes are kept (source photos come in any size)."""
        key = (h, w, size)
        found = self._sets.get(key)
        if found is not None:
            return found
        if len(self._sets) >= MAX_SHAPES:
            self._sets.clear()
        device, index = self.device, self._device_id
        # Resize's sizes and Pad's pads are read by the host side of the CUDA kernels: kept
        # in host memory, they need no device-to-host copy and sync per detection. The frame
        # is bound per run as a host input: onnxruntime copies it to the device inside run,
        # with the GIL released, where OrtValue.update_inplace holds the GIL for the whole
        # copy (2.7 MB at 720p) and stalls the swap thread (this runs on the detection thread).
        frame = buffer((h, w, 3), np.uint8, "cpu", 0)
        sizes, pads = buffer((4,), np.int64, "cpu", 0), buffer((8,), np.int64, "cpu", 0)
        blob = buffer((1, 3, size, size), self._dtype, device, index)
        letterbox = bind(self._graph, [frame, sizes, pads, blob])
        detect = self._detector.io_binding()
        detect.bind_ortvalue_input(self._input, blob)
        for name in self._outputs:
            detect.bind_output(name, "cpu")
        found = self._sets[key] = (letterbox, detect, [frame, sizes, pads, blob])
        return found

    def run(self, image: BgrImage, size: int, new_w: int, new_h: int) -> list[Any]:
        """The detector's outputs (host arrays, in the model's output order)."""
        h, w = image.shape[:2]
        with self._lock:
            letterbox, detect, (_frame, sizes, pads, _blob) = self._set(h, w, size)
            letterbox.bind_cpu_input(self._frame_name, np.ascontiguousarray(image))
            sizes.update_inplace(np.array([1, 3, new_h, new_w], np.int64))
            pads.update_inplace(np.array([0, 0, 0, 0, 0, 0, size - new_h, size - new_w], np.int64))
            self._graph.run_with_iobinding(letterbox)
            self._detector.run_with_iobinding(detect)
            outputs: list[Any] = detect.copy_outputs_to_cpu()
            return outputs
