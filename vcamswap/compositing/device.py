"""The compositor on the models' device: upload the frame (the window around the faces) once,
crop, swap, colour-correct, paste (and enhance) there through IO binding, download the result
once.

On CUDA this replaces the CPU-side crop / blob / un-blob / colour transfer / paste-back and the
enhancer's 512 px warps with one upload and one download of that window (BENCHMARKS.md has the
measured difference). On the CPU provider it is the same code over host buffers, which is how
the tests exercise it."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from vcamswap.compositing import graphs
from vcamswap.compositing.blend import face_alpha, feather_mask
from vcamswap.compositing.device_buffers import DeviceBuffers, previous_stats, tile_graphs
from vcamswap.compositing.host import COLOR_KEEP, HostEnhancer
from vcamswap.compositing.protocols import EnhanceJob, FaceJob, Look
from vcamswap.compositing.window import frame_window, to_window
from vcamswap.inference.catalog import ModelSpec
from vcamswap.inference.devicebind import Graph, Model, SessionMaker
from vcamswap.inference.models import target_and_source
from vcamswap.inference.session import dtype_of, fixed_batch, input_dtype
from vcamswap.ports import FaceEnhancer, Matrix
from vcamswap.types import BgrImage, StageRecorder, timed_stage

log = logging.getLogger(__name__)
MAX_SIZES = 6
FRAME_SIZED = ("frame", "canvas")


@dataclass(frozen=True, slots=True)
class EnhancerSlot:
    """The enhancer beside a device compositor: a local ``session`` runs on the device between
    paste and download; a ``remote`` one (any FaceEnhancer) on the downloaded frame."""

    spec: ModelSpec
    session: Any | None = None
    remote: FaceEnhancer | None = None


def _latent_rows(faces: FaceJob) -> np.ndarray[Any, np.dtype[np.float32]]:
    """One latent row per face."""
    rows = faces.latents.reshape(-1, faces.latents.shape[-1]).astype(np.float32)
    count = len(faces.matrices)
    return rows if len(rows) == count else np.repeat(rows[:1], count, axis=0)


class DeviceCompositor:
    """``Compositor`` on one device with preallocated buffers. Not thread-safe: the inference
    thread calls it."""

    def __init__(
        self,
        make: SessionMaker,
        swapper: Any,
        swap_spec: ModelSpec,
        device: str = "cuda",
        device_id: int = 0,
        enhancer: EnhancerSlot | None = None,
        captured: bool = False,
    ) -> None:
        """``captured``: build the compositing graphs per window size and face count and replay
        them as CUDA graphs (``make`` decides what that means for its provider)."""
        self.device = device
        self._device_id = device_id
        self._swap = Model(swapper)
        target, source = target_and_source(swapper)
        self._target_first = target == 0
        self._swap_dtype = input_dtype(swapper, target)
        self._latent_dtype = input_dtype(swapper, source)
        self._face_dtype = dtype_of(swapper.get_outputs()[0])
        self._batch = not fixed_batch(swapper)
        self._size = swap_spec.input_size
        self._spec = swap_spec
        self._make = make
        self._captured = captured
        self._feathers: dict[int, np.ndarray[Any, np.dtype[np.float32]]] = {}
        self._graphs: dict[int, tuple[Graph, Graph]] = {}
        self._stats: dict[int, np.ndarray[Any, Any]] = {}
        remote = enhancer.remote if enhancer is not None else None
        self._host_enhancer = HostEnhancer(remote) if remote is not None else None
        self._enhancer: Model | None = None
        if enhancer is not None and enhancer.session is not None:
            session, spec = enhancer.session, enhancer.spec
            esize = spec.input_size
            self._esize = esize
            self._enhancer = Model(session)
            self._edtype = input_dtype(session)
            out_dtype = dtype_of(session.get_outputs()[0])
            self._eout_dtype = out_dtype
            self._ecrop = Graph(
                lambda shape: graphs.crop_graph(esize, spec.mean, spec.std, self._edtype, shape),
                make,
                "device crop 512",
                captured,
            )
            self._epaste = Graph(
                lambda shape: graphs.paste_graph(esize, -1.0, 1.0, out_dtype, shape),
                make,
                "device paste 512",
                captured,
            )
        self._buffers = DeviceBuffers(device, device_id)
        self._sizes: set[tuple[int, int]] = set()
        self._restored: list[tuple[Any, Any]] = []
        self._enhance_matrices: list[Matrix] = []
        self._side: int | None = None
        self._copier: ThreadPoolExecutor | None = None

    @property
    def where(self) -> str:
        return self.device

    def _graphs_for(self, tiles: int) -> tuple[Graph, Graph]:
        pair = self._graphs.get(tiles)
        if pair is None:
            pair = self._graphs[tiles] = tile_graphs(
                self._make,
                self._spec,
                (self._swap_dtype, self._face_dtype),
                tiles,
                split=tiles > 1 and not self._batch,
                captured=self._captured,
            )
        return pair

    def _alpha(self, size: int) -> np.ndarray[Any, np.dtype[np.float32]]:
        alpha = self._feathers.get(size)
        if alpha is None:
            alpha = self._feathers[size] = feather_mask(size)
        return alpha

    def _swap_run(self, blob: Any, latent: Any, face: Any) -> None:
        self._swap.run([blob, latent, face] if self._target_first else [latent, blob, face])

    def close(self) -> None:
        """Stop the frame-copy thread (a dropped compositor stops it too, once collected)."""
        if self._copier is not None:
            self._copier.shutdown(wait=False)
            self._copier = None

    def _copy_of(self, image: BgrImage) -> Future[BgrImage]:
        """The output frame, copied on a helper thread while this thread waits for the
        device (numpy copies without the GIL): measurably faster than copying after the
        device work (BENCHMARKS.md, GPU history)."""
        if self._copier is None:
            self._copier = ThreadPoolExecutor(1, thread_name_prefix="vcamswap-frame-copy")
        return self._copier.submit(np.copy, image)

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
            self._buffers.release(FRAME_SIZED)
            self._sizes.clear()
            every = [graph for pair in self._graphs.values() for graph in pair]
            if self._enhancer is not None:
                every += [self._ecrop, self._epaste]
            for graph in every:
                graph.forget()
        self._sizes.add(size)

    def _window(
        self, image: BgrImage, faces: FaceJob, enhance: EnhanceJob | None
    ) -> tuple[tuple[int, int], tuple[int, int]]:
        """The part of the frame this frame's work reads and writes: every face's crop and
        paste (and the enhancer's); (rows, columns), (top, left)."""
        side = self._size * faces.tiles
        footprints = [(cv2.invertAffineTransform(m), side) for m in faces.matrices]
        if enhance is not None and self._enhancer is not None:
            pasted = enhance.matrices if self._refreshes(enhance) else self._enhance_matrices
            footprints += [(cv2.invertAffineTransform(m), self._esize) for m in pasted]
        h, w = image.shape[:2]
        window, origin, self._side = frame_window(footprints, (h, w), self._side)
        return window or (h, w), origin

    def _alphas(self, faces: FaceJob, look: Look) -> np.ndarray[Any, np.dtype[np.float32]]:
        base = self._alpha(self._size * faces.tiles)
        regions = faces.masks if faces.masks is not None else [None] * len(faces.matrices)
        return np.stack(
            [
                face_alpha(base, kps, m, look.mouth_mask, look.opacity, region)
                for kps, m, region in zip(faces.kps, faces.matrices, regions, strict=True)
            ]
        )

    def composite(
        self,
        image: BgrImage,
        faces: FaceJob,
        look: Look,
        enhance: EnhanceJob | None,
        stages: StageRecorder,
    ) -> BgrImage:
        """Only the window of the frame the faces reach goes to the device and back; the graphs
        work in its coordinates (matrices shifted by its origin). ``stages`` gets transfer
        (upload, download, waiting for the copy of the frame), swap (crops + swapper), paste,
        enhance in milliseconds (each run returns when its device work is done)."""
        on_device = enhance if self._enhancer is not None else None
        result = self._run(image, faces, look, on_device, stages)
        if enhance is not None and on_device is None and self._host_enhancer is not None:
            with timed_stage(stages, "enhance"):
                self._host_enhancer.apply(result, enhance)
        return result

    def _run(
        self,
        image: BgrImage,
        faces: FaceJob,
        look: Look,
        device_enhance: EnhanceJob | None,
        recorder: StageRecorder,
    ) -> BgrImage:
        latents = _latent_rows(faces)
        alphas = self._alphas(faces, look)
        clock = time.perf_counter
        (h, w), (top, left) = self._window(image, faces, device_enhance)
        shift = np.array([left, top], np.float64)
        self._forget_old_sizes((h, w))
        started = clock()
        copy = self._copy_of(image)
        frame = self._buffers.upload(("frame",), image[top : top + h, left : left + w], np.uint8)
        transfer = clock() - started
        canvases = [self._buffers.value(("canvas", i), (h, w, 3), np.uint8) for i in range(2)]
        canvas, turn, swap_s, paste_s = self._swap_and_paste(
            frame, canvases, faces, look, latents, alphas, shift
        )
        if device_enhance is not None:
            mark = clock()
            canvas = self._run_enhancer(canvas, canvases, turn, device_enhance, shift)
            recorder.record_stage("enhance", (clock() - mark) * 1000.0)
        mark = clock()
        result: BgrImage = copy.result()
        result[top : top + h, left : left + w] = canvas.numpy()
        transfer += clock() - mark
        recorder.record_stage("swap", swap_s * 1000.0)
        recorder.record_stage("paste", paste_s * 1000.0)
        recorder.record_stage("transfer", transfer * 1000.0)
        return result

    def _swap_and_paste(
        self,
        frame: Any,
        canvases: list[Any],
        faces: FaceJob,
        look: Look,
        latents: np.ndarray[Any, Any],
        alphas: np.ndarray[Any, Any],
        shift: np.ndarray[Any, Any],
    ) -> tuple[Any, int, float, float]:
        """Crop, swap and paste every face (all in one batch, or one at a time) onto the
        uploaded window: the canvas holding the result, the free canvas's index, seconds in
        swap and paste."""
        clock = time.perf_counter
        swap_s = paste_s = 0.0
        h, w = frame.shape()[:2]
        count = len(faces.matrices)
        canvas, turn = frame, 0
        step = count if self._batch else 1
        tiles, side = faces.tiles, self._size
        parts, size, split = tiles * tiles, side * tiles, tiles > 1 and not self._batch
        crop_graph, paste_graph = self._graphs_for(tiles)
        params = self._buffers.upload_changed(
            ("params",),
            np.array([1.0 if look.color_correction else 0.0, look.sharpness], np.float32),
            np.float32,
        )
        previous, keep_all = previous_stats(self._stats, faces.tracks, count, COLOR_KEEP)
        used: list[np.ndarray[Any, Any]] = []
        for start in range(0, count, step):
            chosen = [to_window(m, shift) for m in faces.matrices[start : start + step]]
            matrices = np.stack(chosen).astype(np.float32)
            inverses = np.stack([cv2.invertAffineTransform(m) for m in chosen])
            k = len(matrices)
            inverse = self._buffers.upload(("inverse",), inverses, np.float32)
            matrix = self._buffers.upload(("matrix",), matrices, np.float32)
            rows = latents[start : start + step]
            if not split:
                rows = np.repeat(rows, parts, axis=0)
            latent = self._buffers.upload_changed(("latent",), rows, self._latent_dtype)
            alpha = self._buffers.upload_changed(
                ("alpha",), alphas[start : start + step], np.float32
            )
            stats = self._buffers.upload(("stats",), previous[start : start + step], np.float32)
            keep = self._buffers.upload(("keep",), keep_all[start : start + step], np.float32)
            stats_out = self._buffers.value(("stats_out",), (k, 4, 3), np.float32)
            crop = self._buffers.value(("crop",), (k, size, size, 3), np.float32)
            mark = clock()
            if split:
                blobs = [
                    self._buffers.value(("blob", i), (k, 3, side, side), self._swap_dtype)
                    for i in range(parts)
                ]
                outs = [
                    self._buffers.value(("face", i), (k, 3, side, side), self._face_dtype)
                    for i in range(parts)
                ]
                crop_graph.run((h, w, k), [frame, inverse, *blobs, crop])
                for blob, face in zip(blobs, outs, strict=True):
                    self._swap_run(blob, latent, face)
            else:
                blob = self._buffers.value(("blob",), (k * parts, 3, side, side), self._swap_dtype)
                face = self._buffers.value(("face",), (k * parts, 3, side, side), self._face_dtype)
                crop_graph.run((h, w, k), [frame, inverse, blob, crop])
                self._swap_run(blob, latent, face)
                outs = [face]
            target = canvases[turn]
            swap_s += clock() - mark
            mark = clock()
            paste_graph.run(
                (h, w, k),
                [canvas, *outs, crop, alpha, matrix, params, stats, keep, target, stats_out],
            )
            used.append(stats_out.numpy().copy())
            paste_s += clock() - mark
            canvas, turn = target, 1 - turn
        if len(faces.tracks) == count:
            self._stats = dict(zip(faces.tracks, np.concatenate(used), strict=True))
        return canvas, turn, swap_s, paste_s

    def _refreshes(self, enhance: EnhanceJob) -> bool:
        """Whether this frame runs the enhancer (else its last restored crops are re-pasted
        where they were restored)."""
        return enhance.refresh or len(self._restored) != len(enhance.matrices)

    def _run_enhancer(
        self,
        canvas: Any,
        canvases: list[Any],
        turn: int,
        enhance: EnhanceJob,
        shift: np.ndarray[Any, Any],
    ) -> Any:
        """``enhance.matrices`` are frame coordinates; restored crops kept from the last
        refresh are re-pasted with their own matrices, shifted to this frame's window."""
        assert self._enhancer is not None
        esize = self._esize
        shape = (*canvas.shape()[:2], 1)
        alpha = self._buffers.upload_changed(("ealpha",), enhance.alpha[None], np.float32)
        params = self._buffers.upload_changed(("eparams",), np.zeros(2, np.float32), np.float32)
        stats = self._buffers.upload_changed(
            ("estats",), np.zeros((1, 4, 3), np.float32), np.float32
        )
        keep = self._buffers.upload_changed(("ekeep",), np.zeros((1, 1, 1), np.float32), np.float32)
        stats_out = self._buffers.value(("estats_out",), (1, 4, 3), np.float32)
        if self._refreshes(enhance):
            self._restored = []
            blob = self._buffers.value(("eblob",), (1, 3, esize, esize), self._edtype)
            for index, m in enumerate(enhance.matrices):
                inverse = self._buffers.upload(
                    ("einverse",), cv2.invertAffineTransform(to_window(m, shift))[None], np.float32
                )
                crop = self._buffers.value(("ecrop", index), (1, esize, esize, 3), np.float32)
                restored = self._buffers.value(
                    ("erestored", index), (1, 3, esize, esize), self._eout_dtype
                )
                self._ecrop.run(shape, [canvas, inverse, blob, crop])
                self._enhancer.run([blob, restored])
                self._restored.append((restored, crop))
            self._enhance_matrices = list(enhance.matrices)
        for (restored, crop), m in zip(self._restored, self._enhance_matrices, strict=True):
            matrix = self._buffers.upload(("ematrix",), to_window(m, shift)[None], np.float32)
            target = canvases[turn]
            self._epaste.run(
                shape,
                [canvas, restored, crop, alpha, matrix, params, stats, keep, target, stats_out],
            )
            canvas, turn = target, 1 - turn
        return canvas
