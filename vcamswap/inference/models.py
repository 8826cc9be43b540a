"""One class per ONNX model, session injected; shapes and normalisation come from the catalog,
never sniffed. Pure geometry lives in ``align``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from vcamswap.errors import ModelError
from vcamswap.inference import align
from vcamswap.inference.catalog import ModelSpec
from vcamswap.inference.session import (
    BoundRunner,
    OrtSession,
    check_signature,
    fixed_batch,
    input_dtype,
)
from vcamswap.ports import DetectedFace, Vector
from vcamswap.types import BgrImage, FaceBox

STRIDES = (8, 16, 32)
MAX_CANDIDATES = 2000  # before NMS: a pathological frame must not stall the frame path
ANCHORS = 2


class Letterbox(Protocol):
    def run(self, image: BgrImage, size: int, new_w: int, new_h: int) -> list[Any]: ...


def nms(boxes: np.ndarray[Any, Any], scores: np.ndarray[Any, Any], iou: float) -> list[int]:
    """Greedy non-maximum suppression (pixel-inclusive areas, as SCRFD was trained with)."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        overlap = w * h / (areas[i] + areas[rest] - w * h)
        order = rest[overlap <= iou]
    return keep


class ScrfdDetector:
    """SCRFD: letterbox to SxS, 3 strides x 2 anchors, distance decode, NMS."""

    def __init__(
        self,
        session: OrtSession,
        spec: ModelSpec,
        path: Path = Path("det.onnx"),
        score: float = 0.5,
        iou: float = 0.4,
        letterbox: Letterbox | None = None,
    ) -> None:
        """``letterbox``: resize and pad on the model's device (DeviceLetterbox) instead of
        with OpenCV here."""
        self._letterbox = letterbox
        check_signature(session, path, [("input", 4)], 9)
        self._session = session
        self._spec = spec
        self._input = session.get_inputs()[0].name
        self._outputs = [o.name for o in session.get_outputs()]
        self._dtype = input_dtype(session)
        self.score, self.iou = score, iou
        self._centers: dict[int, np.ndarray[Any, Any]] = {}
        self._size = spec.input_size

    @property
    def input_size(self) -> int:
        """The letterbox side; smaller is faster and misses small faces."""
        return self._size

    def resize(self, size: int | None) -> None:
        """The real det_10g model takes any multiple of 32; a model with a fixed input keeps
        its own. None goes back to the catalog's size."""
        fixed = self._session.get_inputs()[0].shape[2:]
        if all(isinstance(d, int) for d in fixed):
            return
        self._size = max(32, int(size or self._spec.input_size) // 32 * 32)

    def _anchor_centers(self, size: int, stride: int) -> np.ndarray[Any, Any]:
        cached = self._centers.get(stride)
        if cached is None or len(cached) != (size // stride) ** 2 * ANCHORS:
            n = size // stride
            rows, cols = np.mgrid[:n, :n]
            grid = np.stack([cols, rows], axis=-1).astype(np.float32) * stride
            cached = np.repeat(grid.reshape(-1, 2), ANCHORS, axis=0)
            self._centers[stride] = cached
        return cached

    def detect(self, image: BgrImage) -> list[DetectedFace]:
        """Faces sorted by score, boxes and keypoints in frame pixels."""
        size = self._size
        h, w = image.shape[:2]
        if h / w > 1.0:
            new_h, new_w = size, int(size / (h / w))
        else:
            new_w, new_h = size, int(size * (h / w))
        scale = new_h / h
        if self._letterbox is not None:
            outputs = self._letterbox.run(image, size, new_w, new_h)
        else:
            padded = np.zeros((size, size, 3), dtype=np.uint8)
            padded[:new_h, :new_w] = cv2.resize(image, (new_w, new_h))
            blob = align.to_blob([padded], self._spec.mean, self._spec.std, self._dtype)
            outputs = self._session.run(self._outputs, {self._input: blob})
        scores_all, boxes_all, kps_all = [], [], []
        for index, stride in enumerate(STRIDES):
            scores = np.asarray(outputs[index], dtype=np.float32).reshape(-1)
            dist = np.asarray(outputs[index + 3], dtype=np.float32).reshape(-1, 4) * stride
            kdist = np.asarray(outputs[index + 6], dtype=np.float32).reshape(-1, 10) * stride
            centers = self._anchor_centers(size, stride)
            keep = np.nonzero(scores >= self.score)[0]
            c = centers[keep]
            d = dist[keep]
            boxes = np.stack(
                [c[:, 0] - d[:, 0], c[:, 1] - d[:, 1], c[:, 0] + d[:, 2], c[:, 1] + d[:, 3]],
                axis=-1,
            )
            kps = kdist[keep].reshape(-1, 5, 2) + c[:, None, :]
            scores_all.append(scores[keep])
            boxes_all.append(boxes / scale)
            kps_all.append(kps / scale)
        scores = np.concatenate(scores_all)
        if scores.size == 0:
            return []
        boxes = np.concatenate(boxes_all)
        kps = np.concatenate(kps_all)
        order = np.argsort(-scores, kind="stable")[:MAX_CANDIDATES]
        scores, boxes, kps = scores[order], boxes[order], kps[order]
        faces = []
        for i in nms(boxes, scores, self.iou):
            x1, y1, x2, y2 = (float(v) for v in boxes[i])
            faces.append(
                DetectedFace(FaceBox(x1, y1, x2, y2, float(scores[i])), kps[i].astype(np.float32))
            )
        return faces


class ArcFaceEmbedder:
    """ArcFace: 112 crop with the arcface template, L2-normalised 512-d embedding."""

    def __init__(
        self, session: OrtSession, spec: ModelSpec, path: Path = Path("arcface.onnx")
    ) -> None:
        check_signature(session, path, [("input", 4)], 1)
        self._session = session
        self._spec = spec
        self._input = session.get_inputs()[0].name
        self._dtype = input_dtype(session)

    def embed(self, image: BgrImage, kps: np.ndarray[Any, Any]) -> Vector:
        """The unit-length embedding."""
        raw = self.embed_raw(image, kps)
        norm = float(np.linalg.norm(raw))
        if norm == 0:
            raise ValueError("the embedder returned a zero vector")
        normed: Vector = raw / norm
        return normed

    def embed_raw(self, image: BgrImage, kps: np.ndarray[Any, Any]) -> Vector:
        """The model's output as it is (GHOST's converter was fitted on it, not on the unit
        vector)."""
        size = self._spec.input_size
        matrix = align.estimate_norm(kps, size, self._spec.template or "arcface_112")
        blob = align.to_blob(
            [align.crop(image, matrix, size)], self._spec.mean, self._spec.std, self._dtype
        )
        raw: Vector = np.asarray(
            self._session.run(None, {self._input: blob})[0], dtype=np.float32
        ).reshape(-1)
        return raw


def target_and_source(session: OrtSession) -> tuple[int, int]:
    """Input indices of a swapper's face crop (rank 4) and identity vector (rank 2): exports
    differ in their order."""
    ranks = [len(i.shape) for i in session.get_inputs()]
    return (0, 1) if ranks[0] == 4 else (1, 0)


class AlignedSwapper(ABC):
    """A swapper on aligned square crops (RGB, the catalog's normalisation) and one identity
    vector per crop. All faces of a frame go in one call when the batch is dynamic."""

    @abstractmethod
    def latent(self, embedding: Vector) -> Vector:
        """The identity input for a source face, from its raw ArcFace embedding."""

    def __init__(
        self,
        session: OrtSession,
        spec: ModelSpec,
        path: Path,
        bound: BoundRunner | None = None,
    ) -> None:
        ranks = sorted(len(i.shape) for i in session.get_inputs())
        if ranks != [2, 4] or len(session.get_outputs()) != 1:
            check_signature(session, path, [("target", 4), ("source", 2)], 1)
        self._bound = bound
        self._session = session
        self.spec = spec
        inputs = session.get_inputs()
        t, s = target_and_source(session)
        side = inputs[t].shape[-1]
        if isinstance(side, int) and side != spec.input_size:
            raise ModelError(
                f"{path.name} takes {side} px faces, but the {spec.name} slot needs "
                f"{spec.input_size} px: is it the right file for models.swapper "
                f"({spec.name})?"
            )
        self._target, self._source = inputs[t].name, inputs[s].name
        self._dtype = input_dtype(session, t)
        self._latent_dtype = input_dtype(session, s)
        self._width = int(inputs[s].shape[-1]) if isinstance(inputs[s].shape[-1], int) else 512
        self._single = fixed_batch(session)

    def matrix(self, kps: np.ndarray[Any, Any]) -> align.Matrix:
        return align.estimate_norm(kps, self.spec.input_size, self.spec.template or "arcface_128")

    def swap(self, crops: list[BgrImage], latent: Vector) -> list[BgrImage]:
        """Swap every crop; ``latent`` is one row for all crops or one row per crop."""
        blob = align.to_blob(crops, self.spec.mean, self.spec.std, self._dtype)
        lat = latent.reshape(-1, self._width).astype(self._latent_dtype)
        if len(lat) != len(crops):
            lat = np.repeat(lat[:1], len(crops), axis=0)
        if self._single:
            run = (
                self._bound.run
                if self._bound is not None
                else (lambda feeds: self._session.run(None, feeds)[0])
            )
            out = np.concatenate(
                [
                    run({self._target: blob[i : i + 1], self._source: lat[i : i + 1]})
                    for i in range(len(crops))
                ]
            )
        elif self._bound is not None:
            out = self._bound.run({self._target: blob, self._source: lat})
        else:
            out = self._session.run(None, {self._target: blob, self._source: lat})[0]
        low, high = self.spec.output_range
        return align.from_blob(np.asarray(out), low, high)


class InSwapper(AlignedSwapper):
    """inswapper_128: aligned 128 crops (RGB, /255) + the source latent -> swapped crops.

    ``emap`` is the model's last graph initializer; the latent is computed once per source face."""

    def __init__(
        self,
        session: OrtSession,
        spec: ModelSpec,
        emap: np.ndarray[Any, Any],
        path: Path = Path("inswapper.onnx"),
        bound: BoundRunner | None = None,
    ) -> None:
        super().__init__(session, spec, path, bound)
        if emap.shape != (512, 512):
            raise ModelError(
                f"{path.name} has no 512x512 identity map (its last weights have shape "
                f"{emap.shape}): it is not an inswapper model; is it the right file for "
                f"models.swapper ({spec.name})?"
            )
        self._emap = emap.astype(np.float32)

    def latent(self, embedding: Vector) -> Vector:
        """From the ArcFace embedding (raw or unit length: the latent is normalised)."""
        latent = embedding.reshape(1, -1).astype(np.float32) @ self._emap
        result: Vector = latent / np.linalg.norm(latent)
        return result


class GfpganEnhancer:
    """GFPGAN 1.4: 512 ffhq crop, RGB in [-1, 1] -> restored crop."""

    def __init__(
        self, session: OrtSession, spec: ModelSpec, path: Path = Path("gfpgan.onnx")
    ) -> None:
        check_signature(session, path, [("input", 4)], 1)
        self._session = session
        self.spec = spec
        self._input = session.get_inputs()[0].name
        self._dtype = input_dtype(session)

    def matrix(self, kps: np.ndarray[Any, Any]) -> align.Matrix:
        return align.estimate_norm(kps, self.spec.input_size, self.spec.template or "ffhq_512")

    def enhance(self, crops: list[BgrImage]) -> list[BgrImage]:
        out = []
        for crop in crops:
            blob = align.to_blob([crop], self.spec.mean, self.spec.std, self._dtype)
            result = self._session.run(None, {self._input: blob})[0]
            out.extend(align.from_blob(np.asarray(result), -1.0, 1.0))
        return out
