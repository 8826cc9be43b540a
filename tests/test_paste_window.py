"""The paste graph on a face-sized window of the frame: the same pixels as the full-frame graph
(exactly), a window that always holds what the faces touch and stays inside the frame, and
the device path using it for the swap and the enhancer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.onnx_models import make_gfpgan, make_inswapper
from tests.test_devicegraphs import KPS, graph_session, smooth_frame
from tests.test_devicepath import astronaut_pair
from tests.test_neural import session
from vcamswap.inference import align, devicegraphs, devicepath
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.devicebind import WINDOW_SIDES, paste_window
from vcamswap.inference.devicepath import DeviceEnhance, DeviceFaces, DevicePath


def feeds(frame: np.ndarray[Any, Any], matrices: list[align.Matrix],
          seed: int = 0) -> dict[str, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    n = len(matrices)
    crops = np.stack([align.crop(frame, m, 128) for m in matrices]).astype(np.float32)
    return {"frame": frame,
            "face": cv2.GaussianBlur(rng.random((128, 128, 3 * n)).astype(np.float32), (9, 9),
                                     0).reshape(128, 128, n, 3).transpose(2, 3, 0, 1).copy(),
            "crop": crops, "alpha": np.stack([align.feather_mask(128)] * n),
            "matrix": np.stack(matrices).astype(np.float32),
            "params": np.array([1.0, 0.5], np.float32)}


@pytest.mark.parametrize("shifts", [
    [(0.0, 0.0)],
    [(0.0, 0.0), (30.0, 12.0)],      # overlapping: the later face over the earlier one
    [(-150.0, -110.0)],              # partly off the top-left corner
    [(170.0, 100.0)],                # partly off the bottom-right corner
])
def test_windowed_paste_equals_the_full_frame_paste(shifts: list[tuple[float, float]]) -> None:
    frame = smooth_frame(360, 480, seed=3)
    matrices = [align.estimate_norm(KPS + np.array(s) + (80, 60), 128, "arcface_128")
                for s in shifts]
    inputs = feeds(frame, matrices)
    full, = graph_session(devicegraphs.paste_graph(128, 0.0, 1.0)).run(None, inputs)
    window, origin, _side = paste_window([cv2.invertAffineTransform(m) for m in matrices], 128,
                                         frame.shape[:2])
    assert window is not None and window[0] * window[1] < frame.shape[0] * frame.shape[1]
    windowed, = graph_session(devicegraphs.paste_graph(128, 0.0, 1.0, window=window)).run(
        None, {**inputs, "origin": np.array(origin, np.int64)})
    assert not np.array_equal(full, frame)
    assert np.array_equal(windowed, full)


def test_the_window_holds_every_pixel_a_face_can_touch_and_stays_in_the_frame() -> None:
    h, w = 720, 1280
    rng = np.random.default_rng(7)
    for _ in range(200):
        centre = rng.uniform([-100, -100], [w + 100, h + 100])
        scale, angle = rng.uniform(0.3, 4.0), rng.uniform(-60, 60)
        inverse = cv2.getRotationMatrix2D((64.0, 64.0), angle, scale)
        inverse[:, 2] += centre - 64.0  # crop centre -> frame point
        window, origin, side = paste_window([inverse], 128, (h, w))
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
    window, _origin, side = paste_window([small], 128, (h, w))
    assert side in WINDOW_SIDES and window == (side, side) and side >= 192
    assert paste_window([small], 128, (h, w), keep=384)[2] == 384, "still fits: no new graph"
    assert paste_window([small], 128, (h, w), keep=1024)[2] == side, "far too big: shrinks"
    huge = cv2.getRotationMatrix2D((0.0, 0.0), 0.0, 9.0)
    assert paste_window([huge], 128, (h, w))[0] is None, "a frame-sized face: whole frame"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("window-models")
    make_inswapper(folder / "inswapper_128.onnx", identity=False)
    make_gfpgan(folder / "GFPGANv1.4.onnx")
    return folder


def test_the_device_path_pastes_faces_and_enhancer_through_windows(
        models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Swap and enhancer pastes through windows give the frame the full-frame graphs give."""
    frame, kps = astronaut_pair()
    faces = DeviceFaces([align.estimate_norm(k, 128, "arcface_128") for k in kps],
                        np.zeros((2, 512), np.float32), np.stack([align.feather_mask(128)] * 2))
    enhance = DeviceEnhance([align.estimate_norm(k, 512, "ffhq_512") for k in kps],
                            align.feather_mask(512))
    made: list[bytes] = []

    def maker(data: bytes, what: str, captured: bool) -> Any:
        made.append(data)
        return graph_session(data)

    def run() -> np.ndarray[Any, Any]:
        path = DevicePath(maker, session(models / "inswapper_128.onnx"),
                          CATALOG["inswapper_128"], "cpu",
                          enhancer=session(models / "GFPGANv1.4.onnx"),
                          enhance_spec=CATALOG["gfpgan_1.4"])
        out: np.ndarray[Any, Any] = path.run(frame, faces, enhance)
        return out

    windowed = run()
    assert any(b"origin" in data for data in made), "the pastes took windows"
    monkeypatch.setattr(devicepath, "paste_window",
                        lambda *_args, **_kw: (None, (0, 0), 0))
    made.clear()
    full = run()
    assert not any(b"origin" in data for data in made)
    assert not np.array_equal(full, frame)
    assert np.array_equal(windowed, full)
