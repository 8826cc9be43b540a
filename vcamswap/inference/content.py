"""The content-check detector: NudeNet's YOLOv8-style ONNX model, with our own pre- and
post-processing over an injected session (the same rules as the face models).

Input ``images`` float32 [N,3,S,S]: the frame padded to a square at the bottom/right, resized to
SxS, RGB, scaled to 0..1. (The package's own ``NudeDetector`` converts a 3-channel BGR image with
COLOR_RGBA2BGR and then swaps again in blobFromImage, so it feeds the model BGR; measured on the
package photos, RGB gives the faces higher scores (astronaut 0.81 vs 0.72, grace_hopper 0.76
vs 0.61), so RGB is the training order and our default. ``channel_order="bgr"`` reproduces the
package exactly; the tests use it to prove the rest of the processing identical.)
Output ``output0`` [N, 4 + classes, anchors]: centre x/y, width,
height in input pixels, then one score per class. Candidates scoring at least
``CANDIDATE_SCORE`` go to class-agnostic NMS (IoU 0.45), which keeps those at ``NMS_SCORE`` or
more: the model's published post-processing, reproduced so results match its own package.

The packaged model (``nudenet/320n.onnx`` in the ``nudenet`` wheel) is located without importing
the package (which would import onnxruntime and cv2 at once) and verified by digest.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vcamswap.errors import ModelError
from vcamswap.inference.session import OrtSession, check_signature
from vcamswap.types import BgrImage

LABELS = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)
"""Class order of NudeNet 3.4's detectors (320n and 640m)."""

EXPLICIT = frozenset(
    {
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "ANUS_EXPOSED",
        "FEMALE_BREAST_EXPOSED",
        "BUTTOCKS_EXPOSED",
    }
)
"""The labels that make an image explicit for VCamSwap's check."""

CANDIDATE_SCORE = 0.2
NMS_SCORE = 0.25
NMS_IOU = 0.45
PACKAGED_FILE = "320n.onnx"
PACKAGED_SHA256 = "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f"
"""Digest of nudenet 3.4.2's 320n.onnx (the wheel's file; the same digest is pinned by other
projects fetching the v3.4-weights release asset)."""
PACKAGED_LICENCE = (
    "NudeNet 320n detector, from the nudenet wheel: AGPL-3.0 per the LICENSE "
    "file inside the wheel (its metadata says MIT); loaded from the installed "
    "package, not redistributed"
)


@dataclass(frozen=True, slots=True)
class ContentDetection:
    label: str
    score: float
    box: tuple[int, int, int, int]
    """x, y, width, height in image pixels."""


def packaged_model() -> Path:
    """The 320n model inside the installed ``nudenet`` package; ModelError with the fix."""
    spec = importlib.util.find_spec("nudenet")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / PACKAGED_FILE
        if path.is_file():
            return path
    raise ModelError(
        "the content check needs the nudenet package (its 320n.onnx model): "
        "`pip install nudenet==3.4.2` (a dependency of vcamswap; reinstall "
        "vcamswap), or set safety.content_check.enabled: false and take "
        "responsibility for what you swap"
    )


class NudeNetDetector:
    """One model class, session injected; ``detect`` returns every kept detection."""

    def __init__(
        self,
        session: OrtSession,
        input_size: int = 320,
        path: Path = Path(PACKAGED_FILE),
        channel_order: str = "rgb",
    ) -> None:
        self.channel_order = channel_order
        check_signature(session, path, [("images", 4)], 1)
        self._session = session
        self._input = session.get_inputs()[0].name
        fixed = session.get_inputs()[0].shape[2]
        self.input_size = fixed if isinstance(fixed, int) else input_size
        classes = session.get_outputs()[0].shape[1]
        if isinstance(classes, int) and classes != 4 + len(LABELS):
            raise ModelError(
                f"{path.name} has {classes} output rows; a NudeNet 3.4 detector "
                f"has {4 + len(LABELS)} (4 box values + {len(LABELS)} classes)"
            )

    def blob(self, image: BgrImage) -> tuple[np.ndarray[Any, np.dtype[np.float32]], int]:
        """The input tensor and the padded square side."""
        h, w = image.shape[:2]
        side = max(h, w)
        square = np.zeros((side, side, 3), dtype=np.uint8)
        square[:h, :w] = image
        size = self.input_size
        resized = cv2.resize(square, (size, size), interpolation=cv2.INTER_LINEAR)
        rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB) if self.channel_order == "rgb" else resized
        blob = (rgb.astype(np.float32) * np.float32(1.0 / 255.0)).transpose(2, 0, 1)[None]
        return np.ascontiguousarray(blob), side

    def detect(self, image: BgrImage) -> list[ContentDetection]:
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        blob, side = self.blob(image)
        raw = np.asarray(self._session.run(None, {self._input: blob})[0], dtype=np.float32)
        return self.decode(raw[0], side, image.shape[1], image.shape[0])

    def decode(
        self, output: np.ndarray[Any, Any], side: int, width: int, height: int
    ) -> list[ContentDetection]:
        rows = output.T  # anchors x (4 + classes)
        scores_all = rows[:, 4:]
        best = scores_all.argmax(axis=1)
        score = scores_all[np.arange(len(rows)), best]
        keep = np.nonzero(score >= CANDIDATE_SCORE)[0]
        if keep.size == 0:
            return []
        scale = side / self.input_size
        cx, cy, bw, bh = (rows[keep, i].astype(np.float64) * scale for i in range(4))
        x = np.clip(cx - bw / 2, 0, width)
        y = np.clip(cy - bh / 2, 0, height)
        bw = np.minimum(bw, width - x)
        bh = np.minimum(bh, height - y)
        boxes = [
            [float(a), float(b), float(c), float(d)]
            for a, b, c, d in zip(x, y, bw, bh, strict=True)
        ]
        kept_scores = [float(s) for s in score[keep]]
        chosen = cv2.dnn.NMSBoxes(boxes, kept_scores, NMS_SCORE, NMS_IOU)
        return [
            ContentDetection(
                LABELS[int(best[keep[i]])],
                kept_scores[i],
                (int(boxes[i][0]), int(boxes[i][1]), int(boxes[i][2]), int(boxes[i][3])),
            )
            for i in np.asarray(chosen, dtype=np.int64).reshape(-1)
        ]
