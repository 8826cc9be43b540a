"""The device compositing graphs (crop, paste with colour transfer, SCRFD letterbox) on the CPU
provider, compared with the OpenCV host path they replace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from tests.helpers.models import session
from vcamswap.compositing import graphs as devicegraphs
from vcamswap.compositing.blend import (
    feather_mask,
    paste_back,
    paste_box,
    sharpen,
    transfer_color,
    zero_border,
)
from vcamswap.inference import align
from vcamswap.inference.catalog import CATALOG
from vcamswap.types import BgrImage


def graph_session(data: bytes, _what: str = "", _captured: bool = False) -> Any:
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def smooth_frame(h: int = 240, w: int = 320, seed: int = 0) -> BgrImage:
    rng = np.random.default_rng(seed)
    image: BgrImage = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (7, 7), 0)
    return image


KPS = np.array([[130, 100], [180, 98], [155, 130], [135, 160], [178, 158]], np.float64)


@pytest.mark.parametrize("shift", [(0.0, 0.0), (-120.0, -80.0), (150.0, 90.0)])
def test_crop_graph_matches_warp_affine(shift: tuple[float, float]) -> None:
    """Same pixels as cv2.warpAffine (to rounding), black where the crop leaves the frame,
    and the swapper's blob (RGB, normalised) alongside."""
    frame = smooth_frame()
    matrix = align.estimate_norm(KPS + shift, 128, "arcface_128")
    blob, crop = graph_session(devicegraphs.crop_graph(128, 0.0, 255.0)).run(
        None,
        {"frame": frame, "inverse": cv2.invertAffineTransform(matrix)[None].astype(np.float32)},
    )
    expected = align.crop(frame, matrix, 128)
    assert np.abs(crop[0] - expected).max() <= 0.51
    if shift != (0.0, 0.0):
        assert (expected == 0).any(), "part of this crop lies outside the frame"
    assert np.abs(blob - align.to_blob([expected], 0.0, 255.0)).max() < 0.51 / 255.0


def host_paste(
    frame: BgrImage,
    face: np.ndarray[Any, Any],
    target: BgrImage,
    matrix: align.Matrix,
    alpha: np.ndarray[Any, Any],
    color: bool,
    amount: float,
) -> BgrImage:
    result = align.from_blob(face, 0.0, 1.0)[0]
    if color:
        result = transfer_color(result, target, (alpha > 0.5).astype(np.uint8))[0]
    result = sharpen(result, amount)
    out: BgrImage = frame.copy()
    paste_back(out, result, matrix, alpha, zero_border(alpha))
    return out


@pytest.mark.parametrize(
    ("color", "amount", "max_diff", "mean_diff"),
    [(False, 0.0, 1, 0.1), (True, 0.0, 8, 0.5), (True, 0.6, 9, 0.6)],
)
def test_paste_graph_matches_the_host_paste(
    color: bool, amount: float, max_diff: int, mean_diff: float
) -> None:
    """Colour transfer in float Lab vs OpenCV's 8-bit Lab differs by a few grey levels at most;
    without it the two agree to rounding. Pixels outside the face's box stay exactly as
    they were."""
    frame = smooth_frame()
    matrix = align.estimate_norm(KPS, 128, "arcface_128")
    target = align.crop(frame, matrix, 128)
    face = (
        cv2.GaussianBlur(
            np.random.default_rng(1).random((128, 128, 3)).astype(np.float32), (9, 9), 0
        )
        .transpose(2, 0, 1)[None]
        .copy()
    )
    alpha = feather_mask(128)
    crop = target[None].astype(np.float32)
    (out,) = graph_session(devicegraphs.paste_graph(128, 0.0, 1.0)).run(
        ["out"],
        {
            "frame": frame,
            "face": face,
            "crop": crop,
            "alpha": alpha[None],
            "matrix": matrix[None].astype(np.float32),
            "params": np.array([float(color), amount], np.float32),
            "stats": np.zeros((1, 4, 3), np.float32),
            "keep": np.zeros((1, 1, 1), np.float32),
        },
    )
    expected = host_paste(frame, face, target, matrix, alpha, color, amount)
    diff = np.abs(out.astype(int) - expected.astype(int))
    assert diff.max() <= max_diff and diff.mean() <= mean_diff
    box = paste_box(matrix, 128, frame.shape[1], frame.shape[0])
    assert box is not None
    outside = np.ones(frame.shape[:2], bool)
    outside[box[1] : box[3], box[0] : box[2]] = False
    assert np.array_equal(out[outside], frame[outside])
    assert not np.array_equal(out, frame)


def test_overlapping_faces_are_pasted_in_order() -> None:
    """Two faces in one call: the later one lies over the earlier one, as two host pastes."""
    frame = smooth_frame()
    matrices = [
        align.estimate_norm(KPS, 128, "arcface_128"),
        align.estimate_norm(KPS + np.array([25.0, 10.0]), 128, "arcface_128"),
    ]
    faces = np.stack([np.full((3, 128, 128), v, np.float32) for v in (0.1, 0.9)])
    alpha = feather_mask(128)
    crops = np.stack([align.crop(frame, m, 128) for m in matrices]).astype(np.float32)
    (out,) = graph_session(devicegraphs.paste_graph(128, 0.0, 1.0)).run(
        ["out"],
        {
            "frame": frame,
            "face": faces,
            "crop": crops,
            "alpha": np.stack([alpha, alpha]),
            "matrix": np.stack(matrices).astype(np.float32),
            "params": np.zeros(2, np.float32),
            "stats": np.zeros((2, 4, 3), np.float32),
            "keep": np.zeros((2, 1, 1), np.float32),
        },
    )
    expected = frame.copy()
    for m, f in zip(matrices, faces, strict=True):
        expected = host_paste(expected, f[None], expected, m, alpha, False, 0.0)
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 2


def test_the_detector_letterbox_on_the_device_finds_the_same_faces(tmp_path: Path) -> None:
    """SCRFD fed the uint8 frame through DeviceLetterbox (resize, pad, normalise as a graph,
    chained to the detector): the same faces as the OpenCV letterbox, boxes and keypoints
    within a pixel, at the native and a governor-reduced input size, from two threads."""
    import threading

    from tests.helpers.models import load_group_photo
    from tests.onnx_models import make_scrfd
    from vcamswap.inference.letterbox import DeviceLetterbox
    from vcamswap.inference.models import ScrfdDetector

    photo = load_group_photo()
    path = make_scrfd(tmp_path / "det_10g.onnx")
    spec = CATALOG["det_10g"]
    det = session(path)
    host = ScrfdDetector(session(path), spec)
    device = ScrfdDetector(
        det, spec, letterbox=DeviceLetterbox(graph_session, det, spec.mean, spec.std, "cpu")
    )
    for size in (640, 480):
        host.resize(size)
        device.resize(size)
        expected, got = host.detect(photo), device.detect(photo)
        # The random-weight model scores many boxes near the threshold; a half grey level of
        # resize rounding may tip one across it. Every clear one must match.
        assert abs(len(got) - len(expected)) <= 2 and len(expected) > 5, size
        for one, other in ((expected, got), (got, expected)):
            for a in (f for f in one if f.box.score > device.score + 0.05):
                b = min(other, key=lambda f: float(np.abs(f.kps - a.kps).max()))
                assert abs(a.box.left - b.box.left) < 1.5 and abs(a.box.top - b.box.top) < 1.5
                assert np.abs(a.kps - b.kps).max() < 1.5
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(len(device.detect(photo)))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [len(device.detect(photo))] * 4
    # The frame is bound as a host input per run: a view into a larger image (not contiguous)
    # is detected like its own copy, and the next frame does not see the last one's pixels.
    wide = cv2.copyMakeBorder(photo, 0, 0, 40, 40, cv2.BORDER_CONSTANT)
    view = wide[:, 40:-40]
    assert not view.flags["C_CONTIGUOUS"]
    boxes = [f.box for f in device.detect(view)]
    assert boxes == [f.box for f in device.detect(photo.copy())]
    assert device.detect(np.zeros_like(photo)) != device.detect(photo)
