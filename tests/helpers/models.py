"""Shared by the model tests: a CPU onnxruntime session, the group photo, real keypoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort

from tests.helpers.faces import package_file
from vcamswap.inference.landmarks import DlibLandmarker
from vcamswap.types import BgrImage


def session(path: Path) -> Any:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_group_photo() -> BgrImage:
    """insightface's group photo t1.jpg (from the installed package; the `group_photo`
    fixture in conftest.py)."""
    image = cv2.imread(str(package_file("insightface", "data/images/t1.jpg")))
    assert image is not None
    return np.ascontiguousarray(image)


def five_points(image: BgrImage) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Real 5-point keypoints of the largest face, from dlib's 68 landmarks."""
    landmarker = DlibLandmarker()
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    box = landmarker.detect(gray, 1)[0]
    p = landmarker.landmarks(gray, box)
    return np.array([p[36:42].mean(0), p[42:48].mean(0), p[30], p[48], p[54]], np.float32)
