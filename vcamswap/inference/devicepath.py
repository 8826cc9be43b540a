"""The neural engine's frame path on the models' device: upload the frame (the window around
the faces) once, crop, swap, colour-correct, paste (and enhance) there through IO binding,
download the result once.

On CUDA this replaces the CPU-side crop / blob / un-blob / colour transfer / paste-back and the
enhancer's 512 px warps (measured on an H100: 3 - 4 ms of paste and 15 - 20 ms of enhancer
CPU work per frame) with one upload and one download of that window. On the CPU provider it
is the same code over host buffers, which is how the tests exercise it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vcamswap.inference import devicegraphs
from vcamswap.inference.align import Matrix
from vcamswap.inference.catalog import ModelSpec
from vcamswap.inference.devicebind import Graph, Model, SessionMaker, bind, buffer
from vcamswap.inference.session import dtype_of, fixed_batch, input_dtype
from vcamswap.types import BgrImage, NullStageRecorder, StageRecorder

log = logging.getLogger(__name__)
MAX_SIZES = 6
FRAME_SIZED = ("frame", "canvas")


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


class DevicePath:
    """Crop -> swap -> paste (-> enhance) on one device with preallocated buffers. Not
    thread-safe: call it from the inference thread only."""

    def __init__(
        self,
        make: SessionMaker,
        swapper: Any,
        swap_spec: ModelSpec,
        device: str = "cuda",
        device_id: int = 0,
        enhancer: Any | None = None,
        enhance_spec: ModelSpec | None = None,
        captured: bool = False,
    ) -> None:
        """``captured``: build the compositing graphs per window size and face count and replay
        them as CUDA graphs (``make`` decides what that means for its provider)."""
        self.device = device
        self._device_id = device_id
        self._swap = Model(swapper)
        self._swap_dtype = input_dtype(swapper, 0)
        self._latent_dtype = input_dtype(swapper, 1)
        self._face_dtype = dtype_of(swapper.get_outputs()[0])
        self._batch = not fixed_batch(swapper)
        size = swap_spec.input_size
        self._size = size
        self._crop = Graph(
            lambda shape: devicegraphs.crop_graph(
                size, swap_spec.mean, swap_spec.std, self._swap_dtype, shape
            ),
            make,
            "device crop",
            captured,
        )
        self._paste = Graph(
            lambda shape: devicegraphs.paste_graph(size, 0.0, 1.0, self._face_dtype, shape),
            make,
            "device paste",
            captured,
        )
        self._enhancer: Model | None = None
        if enhancer is not None and enhance_spec is not None:
            esize = enhance_spec.input_size
            self._esize = esize
            self._enhancer = Model(enhancer)
            self._edtype = input_dtype(enhancer)
            out_dtype = dtype_of(enhancer.get_outputs()[0])
            self._eout_dtype = out_dtype
            spec = enhance_spec
            self._ecrop = Graph(
                lambda shape: devicegraphs.crop_graph(
                    esize, spec.mean, spec.std, self._edtype, shape
                ),
                make,
                "device crop 512",
                captured,
            )
            self._epaste = Graph(
                lambda shape: devicegraphs.paste_graph(esize, -1.0, 1.0, out_dtype, shape),
                make,
                "device paste 512",
                captured,
            )
        self._values: dict[tuple[Any, ...], Any] = {}
        self._sent: dict[tuple[Any, ...], tuple[Any, bytes]] = {}
        self._sizes: set[tuple[int, int]] = set()
        self._restored: list[tuple[Any, Any]] = []
        self._enhance_matrices: list[Matrix] = []
        self._side: int | None = None
        self._copier: ThreadPoolExecutor | None = None

    def close(self) -> None:
        """Stop the frame-copy thread (a dropped DevicePath stops it too, once collected)."""
        if self._copier is not None:
            self._copier.shutdown(wait=False)
            self._copier = None

    def _copy_of(self, image: BgrImage) -> Future[BgrImage]:
        """The output frame, copied on a helper thread while this thread waits for the
        device (numpy copies without the GIL). Measured on an H200 machine, 1 face at 720p:
        4.01 ms a frame with the copy after the device work, 3.66 ms with it here."""
        if self._copier is None:
            self._copier = ThreadPoolExecutor(1, thread_name_prefix="vcamswap-frame-copy")
        return self._copier.submit(np.copy, image)

    @property
    def enhances(self) -> bool:
        """Whether the enhancer runs here (it may be remote, or absent)."""
        return self._enhancer is not None

    def _forget_old_sizes(self, size: tuple[int, int]) -> None:
        """Window-sized buffers are kept per window size (a face going back and forth
        between two window sides, or a camera that switches modes, reuses them); past
        MAX_SIZES sizes they are released with the compositing graphs' bindings (cached by
        buffer identity, so they must go together), so a source that keeps changing size
        cannot grow device memory without bound. The models' own buffers do not depend on
        the frame size and stay: a swapper replayed as a CUDA graph keeps pointing at them."""
        if size in self._sizes:
            return
        if len(self._sizes) >= MAX_SIZES:
            log.info(
                "device compositing: window size changed again (%dx%d); releasing the "
                "buffers of %d earlier sizes",
                size[1],
                size[0],
                len(self._sizes),
            )
            for key in [k for k in self._values if k[0] in FRAME_SIZED]:
                del self._values[key]
            self._sizes.clear()
            graphs = [self._crop, self._paste]
            if self._enhancer is not None:
                graphs += [self._ecrop, self._epaste]
            for graph in graphs:
                graph.forget()
        self._sizes.add(size)

    def _value(self, key: tuple[Any, ...], shape: tuple[int, ...], dtype: Any) -> Any:
        """A device buffer, allocated once per key and shape."""
        full = (*key, shape)
        value = self._values.get(full)
        if value is None:
            value = self._values[full] = buffer(shape, dtype, self.device, self._device_id)
        return value

    def _upload(self, key: tuple[Any, ...], array: np.ndarray[Any, Any], dtype: Any) -> Any:
        value = self._value(key, tuple(array.shape), dtype)
        value.update_inplace(np.ascontiguousarray(array, dtype=dtype))
        return value

    def _upload_changed(self, key: tuple[Any, ...], array: np.ndarray[Any, Any], dtype: Any) -> Any:
        """``_upload`` for inputs that rarely change (latents, masks, parameters): skipped when
        the buffer already holds these bytes. Each upload is a synchronous copy that holds the
        GIL, which the detection thread is waiting for (measured on an H200 machine: six
        uploads a frame cost 0.29 ms alone and 0.85 ms beside asynchronous detection)."""
        data = np.ascontiguousarray(array, dtype=dtype)
        value = self._value(key, tuple(array.shape), dtype)
        sent, raw = self._sent.get(key), data.tobytes()
        if sent is None or sent[0] is not value or sent[1] != raw:
            value.update_inplace(data)
            self._sent[key] = (value, raw)
        return value

    def _window(
        self, image: BgrImage, faces: DeviceFaces, enhance: DeviceEnhance | None
    ) -> tuple[tuple[int, int], tuple[int, int]]:
        """The part of the frame this frame's work reads and writes: every face's crop and
        paste (and the enhancer's); (rows, columns), (top, left)."""
        footprints = [(cv2.invertAffineTransform(m), self._size) for m in faces.matrices]
        if enhance is not None and self._enhancer is not None:
            pasted = enhance.matrices if self._refreshes(enhance) else self._enhance_matrices
            footprints += [(cv2.invertAffineTransform(m), self._esize) for m in pasted]
        h, w = image.shape[:2]
        window, origin, self._side = frame_window(footprints, (h, w), self._side)
        return window or (h, w), origin

    def run(
        self,
        image: BgrImage,
        faces: DeviceFaces,
        enhance: DeviceEnhance | None = None,
        stages: StageRecorder | None = None,
    ) -> BgrImage:
        """The frame with every face swapped (and enhanced); ``image`` is not modified.
        Only the window of the frame the faces reach goes to the device and back; the graphs
        work in its coordinates (matrices shifted by its origin). ``stages`` gets transfer
        (upload, download, waiting for the copy of the frame), swap (crops + swapper), paste,
        enhance in milliseconds (each run returns when its device work is done)."""
        recorder = stages or NullStageRecorder()
        clock = time.perf_counter
        (h, w), (top, left) = self._window(image, faces, enhance)
        shift = np.array([left, top], np.float64)
        self._forget_old_sizes((h, w))
        count = len(faces.matrices)
        started = clock()
        copy = self._copy_of(image)
        frame = self._upload(("frame",), image[top : top + h, left : left + w], np.uint8)
        transfer = clock() - started
        swap_s = paste_s = 0.0
        canvases = [self._value(("canvas", i), (h, w, 3), np.uint8) for i in range(2)]
        canvas, turn = frame, 0
        step = count if self._batch else 1
        size = self._size
        params = self._upload_changed(
            ("params",),
            np.array([1.0 if faces.color_correction else 0.0, faces.sharpness], np.float32),
            np.float32,
        )
        for start in range(0, count, step):
            chosen = [to_window(m, shift) for m in faces.matrices[start : start + step]]
            matrices = np.stack(chosen).astype(np.float32)
            inverses = np.stack([cv2.invertAffineTransform(m) for m in chosen])
            k = len(matrices)
            inverse = self._upload(("inverse",), inverses, np.float32)
            matrix = self._upload(("matrix",), matrices, np.float32)
            latent = self._upload_changed(
                ("latent",), faces.latents[start : start + step], self._latent_dtype
            )
            alpha = self._upload_changed(("alpha",), faces.alphas[start : start + step], np.float32)
            blob = self._value(("blob",), (k, 3, size, size), self._swap_dtype)
            crop = self._value(("crop",), (k, size, size, 3), np.float32)
            face = self._value(("face",), (k, 3, size, size), self._face_dtype)
            mark = clock()
            self._crop.run((h, w, k), [frame, inverse, blob, crop])
            self._swap.run([blob, latent, face])
            target = canvases[turn]
            swap_s += clock() - mark
            mark = clock()
            self._paste.run((h, w, k), [canvas, face, crop, alpha, matrix, params, target])
            paste_s += clock() - mark
            canvas, turn = target, 1 - turn
        if enhance is not None and self._enhancer is not None:
            mark = clock()
            canvas = self._run_enhancer(canvas, canvases, turn, enhance, shift)
            recorder.record_stage("enhance", (clock() - mark) * 1000.0)
        mark = clock()
        result: BgrImage = copy.result()
        result[top : top + h, left : left + w] = canvas.numpy()
        transfer += clock() - mark
        recorder.record_stage("swap", swap_s * 1000.0)
        recorder.record_stage("paste", paste_s * 1000.0)
        recorder.record_stage("transfer", transfer * 1000.0)
        return result

    def _refreshes(self, enhance: DeviceEnhance) -> bool:
        """Whether this frame runs the enhancer (else its last restored crops are re-pasted
        where they were restored)."""
        return enhance.refresh or len(self._restored) != len(enhance.matrices)

    def _run_enhancer(
        self,
        canvas: Any,
        canvases: list[Any],
        turn: int,
        enhance: DeviceEnhance,
        shift: np.ndarray[Any, Any],
    ) -> Any:
        """``enhance.matrices`` are frame coordinates; restored crops kept from the last
        refresh are re-pasted with their own matrices, shifted to this frame's window."""
        assert self._enhancer is not None
        esize = self._esize
        shape = (*canvas.shape()[:2], 1)
        alpha = self._upload_changed(("ealpha",), enhance.alpha[None], np.float32)
        params = self._upload_changed(("eparams",), np.zeros(2, np.float32), np.float32)
        if self._refreshes(enhance):
            self._restored = []
            blob = self._value(("eblob",), (1, 3, esize, esize), self._edtype)
            for index, m in enumerate(enhance.matrices):
                inverse = self._upload(
                    ("einverse",), cv2.invertAffineTransform(to_window(m, shift))[None], np.float32
                )
                crop = self._value(("ecrop", index), (1, esize, esize, 3), np.float32)
                restored = self._value(("erestored", index), (1, 3, esize, esize), self._eout_dtype)
                self._ecrop.run(shape, [canvas, inverse, blob, crop])
                self._enhancer.run([blob, restored])
                self._restored.append((restored, crop))
            self._enhance_matrices = list(enhance.matrices)
        for (restored, crop), m in zip(self._restored, self._enhance_matrices, strict=True):
            matrix = self._upload(("ematrix",), to_window(m, shift)[None], np.float32)
            target = canvases[turn]
            self._epaste.run(shape, [canvas, restored, crop, alpha, matrix, params, target])
            canvas, turn = target, 1 - turn
        return canvas


WINDOW_SIDES = (128, 192, 256, 384, 512, 768, 1024, 1536, 2048)
"""Square window sides: each window size needs its own buffers (and, with CUDA graphs, its
own sessions), so a face that changes size moves through a few of them, not one per pixel."""


def frame_window(
    footprints: Sequence[tuple[Any, int]], frame_hw: tuple[int, int], keep: int | None = None
) -> tuple[tuple[int, int] | None, tuple[int, int], int]:
    """The part of the frame the device path needs for ``footprints`` (crop pixel -> frame
    pixel matrix, crop size): (rows and columns, or None for the whole frame; top and left;
    the side chosen, to pass back as ``keep``). It holds every frame pixel whose crop
    coordinate is in [-1, size), all that bilinear sampling reads from or writes to, with a
    pixel to spare; ``keep`` (the last side) stays while it holds them and is at most twice
    the side they need, so a face that moves a little keeps its buffers and graphs."""
    h, w = frame_hw
    if not footprints:
        return None, (0, 0), keep or max(h, w)
    points = np.concatenate(
        [
            np.array([[-1, -1, 1], [size, -1, 1], [-1, size, 1], [size, size, 1]], np.float64)
            @ np.asarray(inverse, np.float64).T
            for inverse, size in footprints
        ]
    )
    top = max(int(np.floor(points[:, 1].min())) - 1, 0)
    left = max(int(np.floor(points[:, 0].min())) - 1, 0)
    bottom = min(int(np.ceil(points[:, 1].max())) + 2, h)
    right = min(int(np.ceil(points[:, 0].max())) + 2, w)
    need = max(bottom - top, right - left, 1)
    side = next((s for s in WINDOW_SIDES if s >= need), max(h, w))
    if keep is not None and need <= keep <= 2 * side:
        side = keep
    rows, cols = min(side, h), min(side, w)
    if (rows, cols) == (h, w):
        return None, (0, 0), side
    y0 = min(max(top - (rows - (bottom - top)) // 2, 0), h - rows)
    x0 = min(max(left - (cols - (right - left)) // 2, 0), w - cols)
    return (rows, cols), (y0, x0), side


def to_window(matrix: Matrix, shift: np.ndarray[Any, Any]) -> Matrix:
    """A frame -> crop matrix for window coordinates (frame point = window point + shift)."""
    moved: Matrix = np.array(matrix, np.float64)
    moved[:, 2] += moved[:, :2] @ shift
    return moved


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
        self._graph = make(
            devicegraphs.letterbox_graph(mean, std, self._dtype), "device letterbox", False
        )
        self._detector = detector
        self._input = detector.get_inputs()[0].name
        self._frame_name = self._graph.get_inputs()[0].name
        self._outputs = [o.name for o in detector.get_outputs()]
        self._lock = threading.Lock()
        self._sets: dict[tuple[int, int, int], tuple[Any, Any, list[Any]]] = {}

    def _set(self, h: int, w: int, size: int) -> tuple[Any, Any, list[Any]]:
        """(letterbox binding, detector binding, [frame, sizes, pads]) for this shape; at most
        MAX_SIZES shapes are kept (source photos come in any size)."""
        key = (h, w, size)
        found = self._sets.get(key)
        if found is not None:
            return found
        if len(self._sets) >= MAX_SIZES:
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
