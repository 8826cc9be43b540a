"""The face-model seams: what a detector, embedder, swapper and enhancer promise, and the face a
detector finds. Engines and compositors are typed on these, never on a concrete model class, so a
local onnxruntime model, a remote Triton one and a test fake are interchangeable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from vcamswap.types import BgrImage, FaceBox

Matrix = np.ndarray[Any, np.dtype[np.float64]]
"""A 2x3 affine matrix: frame pixel -> aligned crop pixel."""

Vector = np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True, slots=True)
class DetectedFace:
    box: FaceBox
    kps: np.ndarray[Any, np.dtype[np.float32]]  # 5x2: eyes, nose, mouth corners


class ModelShape(Protocol):
    """The part of a model's catalog entry the frame path needs."""

    @property
    def input_size(self) -> int: ...


class FaceDetector(Protocol):
    def detect(self, image: BgrImage) -> list[DetectedFace]: ...

    def resize(self, size: int | None) -> None:
        """Detect at ``size`` px from now on (None: the model's own size). A detector that
        cannot change its input (a fixed-shape model, a remote one) ignores it."""


class FaceEmbedder(Protocol):
    def embed(self, image: BgrImage, kps: np.ndarray[Any, Any]) -> Vector:
        """The unit-length identity embedding."""

    def embed_raw(self, image: BgrImage, kps: np.ndarray[Any, Any]) -> Vector:
        """The model's embedding before normalisation."""


class FaceSwapper(Protocol):
    @property
    def spec(self) -> ModelShape: ...

    def latent(self, embedding: Vector) -> Vector:
        """The swapper's identity input for a source face, from its raw embedding."""

    def matrix(self, kps: np.ndarray[Any, Any]) -> Matrix: ...

    def swap(self, crops: list[BgrImage], latent: Vector) -> list[BgrImage]:
        """Swap every crop; ``latent`` is one row for all crops or one row per crop."""


class FaceEnhancer(Protocol):
    @property
    def spec(self) -> ModelShape: ...

    def matrix(self, kps: np.ndarray[Any, Any]) -> Matrix: ...

    def enhance(self, crops: list[BgrImage]) -> list[BgrImage]: ...


Labels = np.ndarray[Any, np.dtype[np.uint8]]
"""A face parser's class per pixel (CelebAMask-HQ's 19 classes)."""


class FaceParser(Protocol):
    """Segments aligned face crops into regions (skin, brows, eyes, hair, ...)."""

    @property
    def spec(self) -> ModelShape: ...

    def parse(self, crops: list[BgrImage]) -> list[Labels]:
        """One label map per crop, at the crop's size (the model's input size)."""
