"""The device path's frame window: only the part of the frame the faces reach goes to the
device and back. The window always holds what the faces' crops and pastes touch and stays
inside the frame; the graphs on it, with shifted matrices, give the whole frame's pixels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.helpers.models import session
from tests.onnx_models import make_gfpgan, make_inswapper
from tests.test_devicegraphs import KPS, graph_session, smooth_frame
from tests.test_devicepath import astronaut_pair, job
from vcamswap.compositing import EnhanceJob, Look
from vcamswap.compositing import device as devicepath
from vcamswap.compositing import graphs as devicegraphs
from vcamswap.compositing.blend import feather_mask
from vcamswap.compositing.device import DeviceCompositor, EnhancerSlot
from vcamswap.compositing.window import WINDOW_SIDES, frame_window, to_window
from vcamswap.inference import align
from vcamswap.inference.catalog import CATALOG
from vcamswap.types import NullStageRecorder


def feeds(
    frame: np.ndarray[Any, Any], matrices: list[align.Matrix], seed: int = 0
) -> dict[str, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    n = len(matrices)
    crops = np.stack([align.crop(frame, m, 128) for m in matrices]).astype(np.float32)
    return {
        "frame": frame,
        "face": cv2.GaussianBlur(rng.random((128, 128, 3 * n)).astype(np.float32), (9, 9), 0)
        .reshape(128, 128, n, 3)
        .transpose(2, 3, 0, 1)
        .copy(),
        "crop": crops,
        "alpha": np.stack([feather_mask(128)] * n),
        "matrix": np.stack(matrices).astype(np.float32),
        "params": np.array([1.0, 0.5], np.float32),
        "stats": np.zeros((n, 4, 3), np.float32),
        "keep": np.zeros((n, 1, 1), np.float32),
    }


@pytest.mark.parametrize(
    "shifts",
    [
        [(0.0, 0.0)],
        [(0.0, 0.0), (30.0, 12.0)],  # overlapping: the later face over the earlier one
        [(-150.0, -110.0)],  # partly off the top-left corner
        [(170.0, 100.0)],  # partly off the bottom-right corner
    ],
)
def test_crop_and_paste_on_the_window_match_the_whole_frame(
    shifts: list[tuple[float, float]],
) -> None:
    """The graphs on the uploaded window with matrices shifted to it: the crops and the pasted
    window are those of the whole frame (to float rounding of the shifted matrices), and
    nothing outside the window changes in the whole-frame paste."""
    frame = smooth_frame(360, 480, seed=3)
    matrices = [
        align.estimate_norm(KPS + np.array(s) + (80, 60), 128, "arcface_128") for s in shifts
    ]
    window, (top, left), _side = frame_window(
        [(cv2.invertAffineTransform(m), 128) for m in matrices], frame.shape[:2]
    )
    assert window is not None and window[0] * window[1] < frame.shape[0] * frame.shape[1]
    rows, cols = window
    part = np.ascontiguousarray(frame[top : top + rows, left : left + cols])
    shift = np.array([left, top], np.float64)
    moved = [to_window(m, shift) for m in matrices]
    crop = graph_session(devicegraphs.crop_graph(128, 0.0, 255.0))

    def inverses(ms: list[align.Matrix]) -> np.ndarray[Any, Any]:
        return np.stack([cv2.invertAffineTransform(m) for m in ms]).astype(np.float32)

    _, crops_full = crop.run(None, {"frame": frame, "inverse": inverses(matrices)})
    _, crops_part = crop.run(None, {"frame": part, "inverse": inverses(moved)})
    assert np.abs(crops_full - crops_part).max() < 0.05
    inputs = feeds(frame, matrices)
    paste = graph_session(devicegraphs.paste_graph(128, 0.0, 1.0))
    (full, _) = paste.run(None, inputs)
    (windowed, _) = paste.run(
        None, {**inputs, "frame": part, "matrix": np.stack(moved).astype(np.float32)}
    )
    assert not np.array_equal(full, frame)
    outside = np.ones(frame.shape[:2], bool)
    outside[top : top + rows, left : left + cols] = False
    assert np.array_equal(full[outside], frame[outside])
    diff = np.abs(windowed.astype(int) - full[top : top + rows, left : left + cols])
    assert diff.max() <= 1 and diff.mean() < 0.01


def test_the_window_holds_every_pixel_a_face_can_touch_and_stays_in_the_frame() -> None:
    h, w = 720, 1280
    rng = np.random.default_rng(7)
    for _ in range(200):
        centre = rng.uniform([-100, -100], [w + 100, h + 100])
        scale, angle = rng.uniform(0.3, 4.0), rng.uniform(-60, 60)
        inverse = cv2.getRotationMatrix2D((64.0, 64.0), angle, scale)
        inverse[:, 2] += centre - 64.0  # crop centre -> frame point
        window, origin, side = frame_window([(inverse, 128)], (h, w))
        if window is None:
            assert side >= min(h, w)
            continue
        rows, cols = window
        y0, x0 = origin
        assert 0 <= y0 <= h - rows and 0 <= x0 <= w - cols
        # every crop coordinate in [-1, 128) lands inside the window (or off the frame)
        u, v = np.meshgrid(np.linspace(-1, 128, 60), np.linspace(-1, 128, 60))
        pts = np.stack([u.ravel(), v.ravel(), np.ones(u.size)], 1) @ inverse.T
        on_frame = (pts[:, 0] > -1) & (pts[:, 0] < w) & (pts[:, 1] > -1) & (pts[:, 1] < h)
        x, y = pts[on_frame, 0], pts[on_frame, 1]
        assert ((x >= x0 - 1) & (x < x0 + cols) & (y >= y0 - 1) & (y < y0 + rows)).all()


def test_the_window_side_comes_from_a_few_sizes_and_keeps_its_size_while_it_fits() -> None:
    h, w = 720, 1280
    small = cv2.getRotationMatrix2D((0.0, 0.0), 0.0, 1.5)  # a 192 px face at the corner
    small[:, 2] = (500.0, 300.0)
    window, _origin, side = frame_window([(small, 128)], (h, w))
    assert side in WINDOW_SIDES and window == (side, side) and side >= 192
    assert frame_window([(small, 128)], (h, w), keep=384)[2] == 384, "still fits: no rebuild"
    assert frame_window([(small, 128)], (h, w), keep=1024)[2] == side, "far too big: shrinks"
    assert frame_window([(small, 128), (small, 512)], (h, w))[2] > side, "enhancer crops too"
    huge = cv2.getRotationMatrix2D((0.0, 0.0), 0.0, 9.0)
    assert frame_window([(huge, 128)], (h, w))[0] is None, "a frame-sized face: whole frame"
    assert frame_window([], (h, w))[0] is None


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("window-models")
    make_inswapper(folder / "inswapper_128.onnx", identity=False)
    make_gfpgan(folder / "GFPGANv1.4.onnx")
    return folder


def test_the_device_path_uploads_and_pastes_only_the_window(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Swap and enhancer (refreshed, then re-pasted) through the window give the frame the
    whole-frame path gives, with a window-sized frame buffer on the device."""
    pair, kps = astronaut_pair()  # two faces in the top-left part of a 1080p frame
    frame = cv2.copyMakeBorder(
        pair, 40, 1080 - 40 - pair.shape[0], 60, 1920 - 60 - pair.shape[1], cv2.BORDER_REFLECT
    )
    kps = [k + np.array([60.0, 40.0]) for k in kps]
    faces = job(kps, np.zeros((2, 512), np.float32))
    alpha = feather_mask(512)
    matrices = [align.estimate_norm(k, 512, "ffhq_512") for k in kps]
    far = [k + np.array([900.0, 500.0]) for k in kps]
    moved = job(far, faces.latents)
    moved_512 = [align.estimate_norm(k, 512, "ffhq_512") for k in far]

    def run() -> tuple[list[np.ndarray[Any, Any]], list[tuple[int, ...]]]:
        path = DeviceCompositor(
            graph_session,
            session(models / "inswapper_128.onnx"),
            CATALOG["inswapper_128"],
            "cpu",
            enhancer=EnhancerSlot(CATALOG["gfpgan_1.4"], session(models / "GFPGANv1.4.onnx")),
        )
        look, stages = Look(), NullStageRecorder()
        outs = [path.composite(frame, faces, look, EnhanceJob(matrices, alpha, True), stages)]
        # the next frame re-pastes the restored crops where they were, though the faces moved
        outs.append(path.composite(frame, moved, look, EnhanceJob(moved_512, alpha, False), stages))
        return outs, [key[-1] for key in path._buffers.held() if key[0] == "frame"]

    windowed, shapes = run()
    assert all(s[0] * s[1] < frame.shape[0] * frame.shape[1] for s in shapes)
    monkeypatch.setattr(devicepath, "frame_window", lambda *_a, **_k: (None, (0, 0), 0))
    full, full_shapes = run()
    assert full_shapes == [frame.shape]
    for a, b in zip(windowed, full, strict=True):
        assert not np.array_equal(b, frame)
        diff = np.abs(a.astype(int) - b.astype(int))
        assert diff.max() <= 2 and diff.mean() < 0.01
