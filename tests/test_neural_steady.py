"""Neural engine temporal stability: the keypoint filter on talking-speed motion with
detector-like noise, per-face tracks, and colour statistics smoothed per face on both
compositing paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers.models import five_points, session
from tests.onnx_models import make_inswapper
from tests.test_devicegraphs import graph_session
from vcamswap.compositing import FaceJob, HostCompositor, Look
from vcamswap.compositing.device import DeviceCompositor
from vcamswap.inference import align
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.models import InSwapper
from vcamswap.inference.onnxfile import read_emap
from vcamswap.ports import DetectedFace
from vcamswap.processors.neural_options import NeuralOptions, neural_ladder, neural_options_at
from vcamswap.processors.neural_track import FaceTracks
from vcamswap.samples import sample_photo
from vcamswap.types import FaceBox, NullStageRecorder

FPS = 30.0
TEMPLATE = np.array([[-30, -20], [30, -20], [0, 5], [-22, 35], [22, 35]], np.float64)


def talking(seconds: float = 8.0, seed: int = 0) -> np.ndarray[Any, Any]:
    """Keypoints of a ~120 px face talking on a call at 30 fps: head sway and nods (0.2-1.5
    Hz, up to 12% of the face width), two quick head turns, the mouth corners moving with
    speech (3-5 Hz, a few pixels). [frames, 5, 2] in pixels, without detector noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FPS)) / FPS
    x = 640 + 14 * np.sin(2 * np.pi * 0.3 * t) + 6 * np.sin(2 * np.pi * 1.1 * t + 1.0)
    y = 360 + 8 * np.sin(2 * np.pi * 0.5 * t + 0.3) + 4 * np.sin(2 * np.pi * 1.5 * t)

    def ease(u: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:  # minimum-jerk profile
        u = np.clip(u, 0.0, 1.0)
        eased: np.ndarray[Any, Any] = u**3 * (10 - 15 * u + 6 * u**2)
        return eased

    for start in (2.0, 5.5):  # a quick look aside and back: 40 px in 0.4 s each way
        x = x + 40 * (ease((t - start) / 0.4) - ease((t - start - 1.0) / 0.4))
    angle = 0.05 * np.sin(2 * np.pi * 0.4 * t)
    # syllables at about 4 Hz, louder and softer over a couple of seconds
    rate = 3.5 + 0.5 * np.sin(2 * np.pi * 0.2 * t + rng.random())
    phase = 2 * np.pi * np.cumsum(rate) / FPS
    speech_all = 3 * np.sin(phase) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.35 * t))
    points = []
    for i in range(len(t)):
        c, s = np.cos(angle[i]), np.sin(angle[i])
        shape = TEMPLATE.copy()
        speech = speech_all[i]
        shape[3:, 1] += speech
        shape[3, 0] -= speech / 2
        shape[4, 0] += speech / 2
        points.append(shape @ np.array([[c, s], [-s, c]]) + [x[i], y[i]])
    result: np.ndarray[Any, Any] = np.array(points)
    return result


def box_of(kps: np.ndarray[Any, Any]) -> FaceBox:
    (x0, y0), (x1, y1) = kps.min(0) - 30, kps.max(0) + 30
    return FaceBox(float(x0), float(y0), float(x1), float(y1), 0.9)


def filtered(noisy: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    tracks = FaceTracks()
    out = []
    for i, kps in enumerate(noisy):
        box = box_of(kps)
        (face,) = tracks.update([DetectedFace(box, kps.astype(np.float32))], i / FPS)
        out.append(face.kps)
    return np.array(out, np.float64)


def jitter(points: np.ndarray[Any, Any], truth: np.ndarray[Any, Any]) -> float:
    """Frame-to-frame shake: RMS of the second difference of the error (a constant offset or a
    smooth lag is not jitter)."""
    error = points - truth
    return float(np.sqrt((np.diff(error, n=2, axis=0) ** 2).mean()))


def lag_frames(points: np.ndarray[Any, Any], truth: np.ndarray[Any, Any]) -> float:
    """The delay (in frames, to a quarter frame) that best lines the output up with the true
    motion."""
    t = np.arange(len(truth), dtype=np.float64)
    best, best_error = 0.0, np.inf
    for lag in np.arange(0.0, 4.01, 0.25):
        shifted = np.stack(
            [
                np.interp(t - lag, t, truth[:, k, d])
                for k in range(truth.shape[1])
                for d in range(2)
            ],
            axis=1,
        ).reshape(len(t), truth.shape[1], 2)
        error = float(((points[10:] - shifted[10:]) ** 2).mean())
        if error < best_error:
            best, best_error = lag, error
    return best


@pytest.mark.parametrize("noise_px", [1.0, 2.0])
def test_keypoint_filter_halves_jitter_without_lagging_a_talking_head(noise_px: float) -> None:
    truth = talking()
    noisy = truth + np.random.default_rng(1).normal(0, noise_px, truth.shape)
    out = filtered(noisy)
    assert jitter(out, truth) * 2 <= jitter(noisy, truth), (
        jitter(out, truth),
        jitter(noisy, truth),
    )
    assert lag_frames(out, truth) <= 1.0
    # and on the quick turns the face is never left behind by more than a few pixels
    assert np.abs(out - truth).max() < 12


def test_each_face_keeps_its_own_track_and_filter() -> None:
    """Two faces swap places in the detector's order (it sorts by size): each keeps its track
    id and its keypoints stay its own."""
    a, b = TEMPLATE + np.array([300, 300]), TEMPLATE * 0.8 + np.array([900, 320])
    tracks = FaceTracks()

    def face(kps: np.ndarray[Any, Any]) -> DetectedFace:
        return DetectedFace(box_of(kps), kps.astype(np.float32))

    first = tracks.update([face(a), face(b)], 0.0)
    ids = tracks.ids
    second = tracks.update([face(b + 1), face(a + 1)], 1 / FPS)
    assert tracks.ids == (ids[1], ids[0])
    assert np.abs(second[0].kps - (b + 1)).max() < 2 and np.abs(second[1].kps - (a + 1)).max() < 2
    assert np.abs(first[0].kps - a).max() < 1e-3
    tracks.update([face(a + 400)], 2 / FPS)  # far from both: a new face, a new track
    assert tracks.ids[0] not in ids


def test_ladder_steps_follow_the_features_in_use() -> None:
    plain = [name for name, _ in neural_ladder(NeuralOptions())]
    assert not any("parser" in n or "boost" in n for n in plain)
    full = NeuralOptions(resolution=512, parser=True)
    names = [name for name, _ in neural_ladder(full)]
    assert names[1:3] == ["pixel boost at most 256 px", "pixel boost off"]
    assert "face parser every 2nd frame" in names
    last = neural_options_at(full, len(names) - 1)
    assert last.resolution == 128 and last.parser_every == 4 and not last.enhancer_allowed
    assert neural_options_at(NeuralOptions(resolution=256, parser=True), 1).resolution == 128


@pytest.fixture(scope="module")
def swapper_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_inswapper(tmp_path_factory.mktemp("steady") / "inswapper.onnx", identity=False)


def test_colour_statistics_are_smoothed_per_face_on_both_paths(swapper_file: Path) -> None:
    """The lighting jumps between two frames: with a track, the face's colour match moves only
    part of the way (the rest follows over the next frames); both paths agree."""
    image = sample_photo("astronaut")
    kps = five_points(image)
    brighter = np.clip(image.astype(int) + 40, 0, 255).astype(np.uint8)
    sess = session(swapper_file)
    spec = CATALOG["inswapper_128"]
    host = HostCompositor(InSwapper(sess, spec, read_emap(swapper_file)))
    device = DeviceCompositor(graph_session, sess, spec, "cpu")
    matrix = align.estimate_norm(kps, 128, "arcface_128")
    latent = np.ones((1, 512), np.float32) / np.sqrt(512.0)
    look, stages = Look(), NullStageRecorder()

    def run(path: Any, frame: np.ndarray[Any, Any], tracks: tuple[int, ...]) -> Any:
        return path.composite(
            frame, FaceJob([kps], [matrix], latent, tracks=tracks), look, None, stages
        )

    y0, y1, x0, x1 = (
        int(v) for v in (kps[:, 1].min(), kps[:, 1].max(), kps[:, 0].min(), kps[:, 0].max())
    )
    for path in (host, device):
        run(path, image, (7,))
        smoothed = run(path, brighter, (7,))
        fresh = run(path, brighter, ())
        before = run(path, image, ())
        level = [float(x[y0:y1, x0:x1].mean()) for x in (before, smoothed, fresh)]
        assert level[0] + 5 < level[1] < level[2] - 5, level
    a = run(host, image, (1,))
    b = run(device, image, (1,))
    for _ in range(3):
        a, b = run(host, brighter, (1,)), run(device, brighter, (1,))
    diff = np.abs(a.astype(int) - b.astype(int))
    assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 8
