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
    threads at once (the process aborts): each thread that detects owns one, made with
    ``copy``. Building dlib's detector takes about a second holding the interpreter lock (every
    other thread, the camera's too, waits), so it is built once, in ``load``, and copied for
    other threads in a few milliseconds."""

    def __init__(self, detector: Any = None) -> None:
        self._detector: Any = detector

    def load(self) -> None:
        if self._detector is None:
            import dlib

            self._detector = dlib.get_frontal_face_detector()

    def copy(self) -> HogDetector:
        """A detector of its own for another thread (a serialised copy: milliseconds, where
        building a new one takes a second)."""
        import pickle

        self.load()
        return HogDetector(pickle.loads(pickle.dumps(self._detector)))

    def detect(self, gray: GrayImage, upsample: int = 0) -> list[FaceBox]:
        """Frontal faces in a grey image, largest first."""
        self.load()
        rects, scores, _ = self._detector.run(gray, upsample, 0.0)
        boxes = [
            FaceBox(float(r.left()), float(r.top()), float(r.right()), float(r.bottom()), float(s))
            for r, s in zip(rects, scores, strict=True)
        ]
        return sorted(boxes, key=lambda b: b.area, reverse=True)


class DlibLandmarker:
    """HOG face detector + 68-point shape predictor (+ optional identity descriptor).

    ``load`` reads the weights (~100 MB, a second or two holding the interpreter lock): call it
    before frames flow. ``for_thread`` gives another thread a landmarker of its own: a copy of
    the detector and the same shape predictor (read-only, safe to share: checked with three
    threads on one predictor, identical results).
    """

    def __init__(
        self, predictor: Path | None = None, *, hog: HogDetector | None = None, shared: Any = None
    ) -> None:
        self._predictor_path = predictor
        self._hog = hog or HogDetector()
        self._predictor: Any = shared
        self._recognizer: Any = None

    def load(self) -> None:
        self._hog.load()
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

    def for_thread(self) -> DlibLandmarker:
        """A landmarker for another thread: its own detector, the same loaded predictor."""
        self.load()
        return DlibLandmarker(self._predictor_path, hog=self._hog.copy(), shared=self._predictor)

    def hog(self) -> HogDetector:
        """A detector of its own for another thread (see HogDetector.copy)."""
        return self._hog.copy()

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
