"""The neural engine's frame path on the models' device: upload the camera frame once, crop,
swap, colour-correct, paste (and enhance) there through IO binding, download the result once.

On CUDA this replaces the CPU-side crop / blob / un-blob / colour transfer / paste-back and the
enhancer's 512 px warps (measured on an H100: 3 - 4 ms of paste and 15 - 20 ms of enhancer
CPU work per frame) with one 720p upload and one download. On the CPU provider it is the same
code over host buffers, which is how the tests exercise it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from vcamswap.inference import devicegraphs
from vcamswap.inference.align import Matrix
from vcamswap.inference.catalog import ModelSpec
from vcamswap.inference.session import fixed_batch, input_dtype
from vcamswap.types import BgrImage, NullStageRecorder, StageRecorder

SessionMaker = Callable[[bytes, str], Any]
"""Creates an onnxruntime session from model bytes (same providers as the models); the name is
for log lines."""


@dataclass(frozen=True, slots=True)
class DeviceFaces:
    """One frame's faces: the swapper's matrices (frame -> 128 crop), one latent row per face
    and one paste mask per face (feather x mouth mask x opacity)."""

    matrices: list[Matrix]
    latents: np.ndarray[Any, np.dtype[np.float32]]
    alphas: np.ndarray[Any, np.dtype[np.float32]]
    color_correction: bool = True
    sharpness: float = 0.0


@dataclass(frozen=True, slots=True)
class DeviceEnhance:
    """The enhancer's matrices (frame -> 512 crop) and paste mask; ``refresh`` False re-pastes
    the restored crops of the last refresh (enhancer every Nth frame)."""

    matrices: list[Matrix]
    alpha: np.ndarray[Any, np.dtype[np.float32]]
    refresh: bool = True


@dataclass
class _Stage:
    """One model (or graph) and its IO bindings, cached per set of buffers."""

    session: Any
    inputs: list[str]
    outputs: list[str]
    bindings: dict[tuple[int, ...], Any] = field(default_factory=dict)

    def run(self, values: list[Any]) -> None:
        key = tuple(id(v) for v in values)
        binding = self.bindings.get(key)
        if binding is None:
            binding = self.session.io_binding()
            names = self.inputs + self.outputs
            for index, (name, value) in enumerate(zip(names, values, strict=True)):
                if index < len(self.inputs):
                    binding.bind_ortvalue_input(name, value)
                else:
                    binding.bind_ortvalue_output(name, value)
            self.bindings[key] = binding
        self.session.run_with_iobinding(binding)


def _stage(session: Any) -> _Stage:
    return _Stage(session, [i.name for i in session.get_inputs()],
                  [o.name for o in session.get_outputs()])


class DevicePath:
    """Crop -> swap -> paste (-> enhance) on one device with preallocated buffers. Not
    thread-safe: call it from the inference thread only."""

    def __init__(self, make: SessionMaker, swapper: Any, swap_spec: ModelSpec,
                 device: str = "cuda", device_id: int = 0,
                 enhancer: Any | None = None, enhance_spec: ModelSpec | None = None) -> None:
        self.device = device
        self._device_id = device_id
        self._swap = _stage(swapper)
        self._swap_dtype = input_dtype(swapper, 0)
        self._latent_dtype = input_dtype(swapper, 1)
        self._face_dtype = np.float16 if "float16" in str(swapper.get_outputs()[0].type) \
            else np.float32
        self._batch = not fixed_batch(swapper)
        size = swap_spec.input_size
        self._size = size
        self._crop = _stage(make(devicegraphs.crop_graph(size, swap_spec.mean, swap_spec.std,
                                                         self._swap_dtype), "device crop"))
        self._paste = _stage(make(devicegraphs.paste_graph(size, 0.0, 1.0, self._face_dtype),
                                  "device paste"))
        self._enhancer: _Stage | None = None
        if enhancer is not None and enhance_spec is not None:
            esize = enhance_spec.input_size
            self._esize = esize
            self._enhancer = _stage(enhancer)
            self._edtype = input_dtype(enhancer)
            out_dtype = np.float16 if "float16" in str(enhancer.get_outputs()[0].type) \
                else np.float32
            self._eout_dtype = out_dtype
            self._ecrop = _stage(make(devicegraphs.crop_graph(
                esize, enhance_spec.mean, enhance_spec.std, self._edtype), "device crop 512"))
            self._epaste = _stage(make(devicegraphs.paste_graph(esize, -1.0, 1.0, out_dtype),
                                       "device paste 512"))
        self._values: dict[tuple[Any, ...], Any] = {}
        self._restored: list[tuple[Any, Any]] = []
        self._enhance_matrices: list[Matrix] = []
        self._alpha_key: tuple[int, int] | None = None

    @property
    def enhances(self) -> bool:
        """Whether the enhancer runs here (it may be remote, or absent)."""
        return self._enhancer is not None

    def _value(self, key: tuple[Any, ...], shape: tuple[int, ...], dtype: Any) -> Any:
        """A device buffer, allocated once per key and shape."""
        import onnxruntime as ort

        full = (*key, shape)
        value = self._values.get(full)
        if value is None:
            value = ort.OrtValue.ortvalue_from_shape_and_type(list(shape), dtype, self.device,
                                                              self._device_id)
            self._values[full] = value
        return value

    def _upload(self, key: tuple[Any, ...], array: np.ndarray[Any, Any], dtype: Any) -> Any:
        value = self._value(key, tuple(array.shape), dtype)
        value.update_inplace(np.ascontiguousarray(array, dtype=dtype))
        return value

    def run(self, image: BgrImage, faces: DeviceFaces, enhance: DeviceEnhance | None = None,
            stages: StageRecorder | None = None) -> BgrImage:
        """The frame with every face swapped (and enhanced); ``image`` is not modified.
        ``stages`` gets transfer (upload + download), swap (crops + swapper), paste, enhance
        in milliseconds (each run returns when its device work is done)."""
        recorder = stages or NullStageRecorder()
        clock = time.perf_counter
        h, w = image.shape[:2]
        count = len(faces.matrices)
        started = clock()
        frame = self._upload(("frame",), image, np.uint8)
        transfer = clock() - started
        swap_s = paste_s = 0.0
        canvases = [self._value(("canvas", i), (h, w, 3), np.uint8) for i in range(2)]
        canvas, turn = frame, 0
        step = count if self._batch else 1
        size = self._size
        params = self._upload(("params",), np.array(
            [1.0 if faces.color_correction else 0.0, faces.sharpness], np.float32), np.float32)
        for start in range(0, count, step):
            chosen = slice(start, start + step)
            matrices = np.stack(faces.matrices[chosen]).astype(np.float32)
            inverses = np.stack([cv2.invertAffineTransform(m) for m in faces.matrices[chosen]])
            k = len(matrices)
            inverse = self._upload(("inverse",), inverses, np.float32)
            matrix = self._upload(("matrix",), matrices, np.float32)
            latent = self._upload(("latent",), faces.latents[chosen], self._latent_dtype)
            alpha = self._upload(("alpha",), faces.alphas[chosen], np.float32)
            blob = self._value(("blob",), (k, 3, size, size), self._swap_dtype)
            crop = self._value(("crop",), (k, size, size, 3), np.float32)
            face = self._value(("face",), (k, 3, size, size), self._face_dtype)
            mark = clock()
            self._crop.run([frame, inverse, blob, crop])
            self._swap.run([blob, latent, face])
            target = canvases[turn]
            swap_s += clock() - mark
            mark = clock()
            self._paste.run([canvas, face, crop, alpha, matrix, params, target])
            paste_s += clock() - mark
            canvas, turn = target, 1 - turn
        if enhance is not None and self._enhancer is not None:
            mark = clock()
            canvas = self._run_enhancer(canvas, canvases, turn, enhance)
            recorder.record_stage("enhance", (clock() - mark) * 1000.0)
        mark = clock()
        result: BgrImage = canvas.numpy()
        if self.device == "cpu":
            result = np.array(result, copy=True)
        transfer += clock() - mark
        recorder.record_stage("swap", swap_s * 1000.0)
        recorder.record_stage("paste", paste_s * 1000.0)
        recorder.record_stage("transfer", transfer * 1000.0)
        return result

    def _run_enhancer(self, canvas: Any, canvases: list[Any], turn: int,
                      enhance: DeviceEnhance) -> Any:
        assert self._enhancer is not None
        esize = self._esize
        alpha = self._upload(("ealpha",), enhance.alpha[None], np.float32)
        params = self._upload(("eparams",), np.zeros(2, np.float32), np.float32)
        if enhance.refresh or len(self._restored) != len(enhance.matrices):
            self._restored = []
            blob = self._value(("eblob",), (1, 3, esize, esize), self._edtype)
            for index, m in enumerate(enhance.matrices):
                inverse = self._upload(("einverse",), cv2.invertAffineTransform(m)[None],
                                       np.float32)
                crop = self._value(("ecrop", index), (1, esize, esize, 3), np.float32)
                restored = self._value(("erestored", index), (1, 3, esize, esize),
                                       self._eout_dtype)
                self._ecrop.run([canvas, inverse, blob, crop])
                self._enhancer.run([blob, restored])
                self._restored.append((restored, crop))
            self._enhance_matrices = list(enhance.matrices)
        for (restored, crop), m in zip(self._restored, self._enhance_matrices, strict=True):
            matrix = self._upload(("ematrix",), m[None], np.float32)
            target = canvases[turn]
            self._epaste.run([canvas, restored, crop, alpha, matrix, params, target])
            canvas, turn = target, 1 - turn
        return canvas
