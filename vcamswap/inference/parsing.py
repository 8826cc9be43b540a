"""The face parser: BiSeNet (ResNet-18/34 backbone, trained on CelebAMask-HQ) segments an aligned
512 px face crop into 19 classes. Its ONNX exports take RGB normalised with ImageNet's mean and
deviation and return class scores per pixel (some exports add two auxiliary heads, ignored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vcamswap.errors import ModelError
from vcamswap.inference.catalog import ModelSpec
from vcamswap.inference.session import OrtSession, fixed_batch, input_dtype
from vcamswap.ports import Labels
from vcamswap.types import BgrImage

CLASSES = 19
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def parser_blob(crops: list[BgrImage], dtype: Any = np.float32) -> np.ndarray[Any, Any]:
    """BGR uint8 crops -> [N, 3, S, S] RGB, (x / 255 - mean) / std."""
    rgb = np.stack(crops)[..., ::-1].astype(np.float32) / np.float32(255.0)
    normed = (rgb - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(normed.transpose(0, 3, 1, 2)).astype(dtype)


class BiSeNetParser:
    def __init__(self, session: OrtSession, spec: ModelSpec, path: Path = Path("parser.onnx")):
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or len(outputs[0].shape) != 4:
            raise ModelError(
                f"{path.name} is not a face parser (expected one [N, 3, 512, 512] input and "
                f"[N, {CLASSES}, H, W] class scores): is it the right file for models.parser?"
            )
        channels = outputs[0].shape[1]
        if isinstance(channels, int) and channels != CLASSES:
            raise ModelError(
                f"{path.name} returns {channels} classes, not CelebAMask-HQ's {CLASSES}: "
                "use one of the catalog's BiSeNet parsers (vcamswap models list)"
            )
        self._session = session
        self.spec = spec
        self._input = inputs[0].name
        self._output = outputs[0].name
        self._dtype = input_dtype(session)
        self._single = fixed_batch(session)

    def parse(self, crops: list[BgrImage]) -> list[Labels]:
        if not crops:
            return []
        blob = parser_blob(crops, self._dtype)
        if self._single:
            scores = np.concatenate(
                [
                    self._session.run([self._output], {self._input: blob[i : i + 1]})[0]
                    for i in range(len(crops))
                ]
            )
        else:
            scores = self._session.run([self._output], {self._input: blob})[0]
        labels = np.asarray(scores).argmax(axis=1).astype(np.uint8)
        size = crops[0].shape[0]
        out: list[Labels] = []
        for label in labels:
            resized = label
            if label.shape[0] != size:
                resized = cv2.resize(label, (size, size), interpolation=cv2.INTER_NEAREST)
            out.append(np.ascontiguousarray(resized))
        return out
