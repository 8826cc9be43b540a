"""Device compositing (models.device_compositing): the crop / colour / paste / enhance graphs and
the IO-bound frame path, run here on the CPU provider and compared with the OpenCV host path."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.helpers.models import five_points, session
from tests.onnx_models import make_arcface, make_gfpgan, make_inswapper
from tests.test_devicegraphs import KPS, graph_session, smooth_frame
from vcamswap.compositing import FaceJob, Look
from vcamswap.compositing import device as devicepath
from vcamswap.compositing.device import DeviceCompositor, EnhancerSlot
from vcamswap.inference import align
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.models import ArcFaceEmbedder, GfpganEnhancer, InSwapper
from vcamswap.inference.onnxfile import read_emap
from vcamswap.ports import DetectedFace
from vcamswap.processors.neural import NeuralModels, NeuralOptions, NeuralSwapProcessor
from vcamswap.runtime import RuntimeState, Toggles
from vcamswap.samples import sample_photo, sample_photo_path
from vcamswap.types import BgrImage, FaceBox, Frame, NullStageRecorder

PLAIN = Look(color_correction=False)


def job(kps: list[np.ndarray[Any, Any]], latents: np.ndarray[Any, Any]) -> FaceJob:
    """The faces at ``kps`` with the swapper's 128 px alignment."""
    return FaceJob(kps, [align.estimate_norm(k, 128, "arcface_128") for k in kps], latents)


def run(path: DeviceCompositor, frame: BgrImage, faces: FaceJob, look: Look = PLAIN) -> BgrImage:
    return path.composite(frame, faces, look, None, NullStageRecorder())


def make_tint(path: Path, batch: int | str = "N", fp16: bool = False) -> Path:
    """inswapper-shaped, output = target / 2 + the latent's first three values / 2 per channel:
    each face's latent shows in its colour."""
    t = TensorProto.FLOAT16 if fp16 else TensorProto.FLOAT
    nodes = [
        helper.make_node("Cast", ["target"], ["tf"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["source"], ["sf"], to=TensorProto.FLOAT),
        helper.make_node("Slice", ["sf", "zero", "three", "one"], ["rgb"]),
        helper.make_node("Unsqueeze", ["rgb", "axes"], ["rgb4"]),
        helper.make_node("Add", ["tf", "rgb4"], ["sum"]),
        helper.make_node("Mul", ["sum", "half"], ["mixed"]),
        helper.make_node("Cast", ["mixed"], ["output"], to=t),
    ]
    inits = [
        numpy_helper.from_array(np.array([0], np.int64), "zero"),
        numpy_helper.from_array(np.array([3], np.int64), "three"),
        numpy_helper.from_array(np.array([1], np.int64), "one"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
        numpy_helper.from_array(np.eye(512, dtype=np.float32), "emap"),
    ]
    graph = helper.make_graph(
        nodes,
        "tint",
        [
            helper.make_tensor_value_info("target", t, [batch, 3, 128, 128]),
            helper.make_tensor_value_info("source", t, [batch, 512]),
        ],
        [helper.make_tensor_value_info("output", t, [batch, 3, 128, 128])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("device-models")
    make_arcface(folder / "w600k_r50.onnx")
    make_inswapper(folder / "inswapper_128.onnx", identity=False)
    make_inswapper(folder / "inswapper_batch.onnx", batch="N", identity=False)
    make_gfpgan(folder / "GFPGANv1.4.onnx")
    make_tint(folder / "tint.onnx")
    make_tint(folder / "tint_fp16.onnx", batch=1, fp16=True)
    return folder


class TwoFaces:
    def __init__(self, kps: list[np.ndarray[Any, Any]]) -> None:
        self.kps = kps

    def resize(self, size: int | None) -> None:
        return None

    def detect(self, image: BgrImage) -> list[DetectedFace]:
        return [
            DetectedFace(
                FaceBox(
                    float(k[:, 0].min() - 40),
                    float(k[:, 1].min() - 40),
                    float(k[:, 0].max() + 40),
                    float(k[:, 1].max() + 40),
                    0.9 - 0.1 * i,
                ),
                k.astype(np.float32),
            )
            for i, k in enumerate(self.kps)
        ]


def processors(
    models: Path, swapper: str, detector: Any, toggles: Toggles, **options: Any
) -> tuple[NeuralSwapProcessor, NeuralSwapProcessor]:
    """The same models twice: host path, and device path over CPU buffers."""

    def load(device: bool) -> NeuralModels:
        swap_session = session(models / swapper)
        enhance_session = session(models / "GFPGANv1.4.onnx")
        path = (
            DeviceCompositor(
                graph_session,
                swap_session,
                CATALOG["inswapper_128"],
                "cpu",
                enhancer=EnhancerSlot(CATALOG["gfpgan_1.4"], enhance_session),
            )
            if device
            else None
        )
        return NeuralModels(
            detector,
            ArcFaceEmbedder(session(models / "w600k_r50.onnx"), CATALOG["w600k_r50"]),
            InSwapper(swap_session, CATALOG["inswapper_128"], read_emap(models / swapper)),
            GfpganEnhancer(enhance_session, CATALOG["gfpgan_1.4"]),
            path,
        )

    face = sample_photo_path("grace_hopper")
    pair = tuple(
        NeuralSwapProcessor(
            lambda d=d: load(d),  # type: ignore[misc]
            lambda _n: face,
            RuntimeState(toggles),
            NeuralOptions(**options),
        )
        for d in (False, True)
    )
    for p in pair:
        p.start()
    return pair  # type: ignore[return-value]


def astronaut_pair() -> tuple[BgrImage, list[np.ndarray[Any, Any]]]:
    astronaut = sample_photo("astronaut")
    small = cv2.resize(astronaut, (256, 256))
    frame = np.hstack(
        [
            astronaut,
            cv2.copyMakeBorder(small, 0, astronaut.shape[0] - 256, 0, 0, cv2.BORDER_CONSTANT),
        ]
    )
    shift = np.array([astronaut.shape[1], 0], np.float32)
    return frame, [five_points(astronaut), five_points(small) + shift]


@pytest.mark.parametrize(
    ("swapper", "toggles", "options"),
    [
        ("inswapper_128.onnx", Toggles(), {}),
        ("inswapper_batch.onnx", Toggles(mouth_mask=True), {"many_faces": True}),
        ("inswapper_128.onnx", Toggles(), {"many_faces": True, "opacity": 0.6, "sharpness": 0.4}),
        ("inswapper_128.onnx", Toggles(enhancer=True), {"many_faces": True, "enhancer_every": 2}),
    ],
)
def test_device_path_frames_match_the_host_path(
    models: Path, swapper: str, toggles: Toggles, options: dict[str, Any]
) -> None:
    """Whole frames through the processor: the device path (batched or one face per call,
    mouth mask, opacity, sharpening, enhancer refreshed and re-pasted) within the colour
    transfer's few grey levels of the host path, and nothing outside the faces touched."""
    frame, kps = astronaut_pair()
    host, device = processors(models, swapper, TwoFaces(kps), toggles, **options)
    for seq in (1, 2, 3):
        a = host.process(Frame(frame, seq, 0.0))
        b = device.process(Frame(frame, seq, 0.0))
        assert b.swapped and b.regions == a.regions
        diff = np.abs(a.image.astype(int) - b.image.astype(int))
        # With the mouth mask the device path's colour statistics leave the mouth out (they
        # use the final mask), the host path's do not: a few more grey levels apart there.
        worst = 12 if toggles.mouth_mask else 8
        assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= worst, (seq, diff.mean())
        changed = np.any(b.image != frame, axis=2)
        assert changed.sum() > 2000
    assert not np.shares_memory(b.image, frame)


def test_each_face_gets_its_own_latent_on_the_device(models: Path) -> None:
    """Per-face latents (swap.sources) reach the swapper through the device buffers: with a
    model that tints each face by its latent, the two faces come out in different colours."""
    frame, kps = astronaut_pair()
    path = DeviceCompositor(
        graph_session, session(models / "tint.onnx"), CATALOG["inswapper_128"], "cpu"
    )
    latents = np.zeros((2, 512), np.float32)
    latents[0, :3] = (1.0, 0.0, 0.0)  # red
    latents[1, :3] = (0.0, 0.0, 1.0)  # blue
    out = run(path, frame, job(kps, latents))
    for k, (strong, weak) in zip(kps, ((2, 0), (0, 2)), strict=True):  # BGR channels
        x, y = k[2].astype(int)
        pixel = out[y, x].astype(int) - frame[y, x].astype(int)
        assert pixel[strong] > pixel[weak] + 40


def test_inputs_that_change_on_a_later_frame_reach_the_device(models: Path) -> None:
    """Latents, masks and parameters are uploaded only when their bytes change: a new source
    face, mask or colour setting on frame N shows in frame N, exactly as a fresh path draws it;
    and a closed path (its frame-copy thread stopped) still runs."""
    frame, kps = astronaut_pair()

    def make() -> DeviceCompositor:
        return DeviceCompositor(
            graph_session, session(models / "tint.onnx"), CATALOG["inswapper_128"], "cpu"
        )

    red, blue = np.zeros((2, 512), np.float32), np.zeros((2, 512), np.float32)
    red[:, 2], blue[:, 0] = 1.0, 1.0
    steps = [
        (job(kps, red), PLAIN),
        (job(kps, blue), PLAIN),
        (job(kps, blue), Look(color_correction=False, opacity=0.5, mouth_mask=True)),
        (job(kps, blue), Look(color_correction=True, sharpness=0.5, opacity=0.5)),
        (job(kps, red), PLAIN),
    ]
    path = make()
    outputs = []
    for faces, look in steps:
        out = run(path, frame, faces, look)
        np.testing.assert_array_equal(out, run(make(), frame, faces, look))
        outputs.append(out)
    assert all(np.any(a != b) for a, b in itertools.pairwise(outputs))
    np.testing.assert_array_equal(outputs[0], outputs[-1])
    path.close()
    np.testing.assert_array_equal(run(path, frame, *steps[0]), outputs[0])
    path.close()


def test_fp16_single_face_models_run_on_the_device(models: Path) -> None:
    """fp16 inputs and outputs, batch fixed at 1: faces go one call each, in float16 buffers."""
    frame, kps = astronaut_pair()
    path = DeviceCompositor(
        graph_session, session(models / "tint_fp16.onnx"), CATALOG["inswapper_128"], "cpu"
    )
    latents = np.zeros((2, 512), np.float32)
    first = run(path, frame, job(kps, latents))
    again = run(path, frame, job(kps, latents))
    assert np.array_equal(first, again)
    for k in kps:  # half the face, darker
        x, y = k[2].astype(int)
        assert abs(int(first[y, x].mean()) - int(frame[y, x].mean()) // 2) <= 3


def test_the_loader_builds_the_device_path_when_asked(models: Path, tmp_path: Path) -> None:
    """models.device_compositing: 'auto' keeps the host path on a CPU provider, 'on' builds
    the device path (and warms it up), 'off' never does."""
    from tests.onnx_models import make_scrfd
    from vcamswap.config import AppPaths, Config
    from vcamswap.processors.engines import neural_loader
    from vcamswap.processors.neural_load import device_for
    from vcamswap.tools.bench import bench_store

    make_scrfd(models / "det_10g.onnx")
    assert device_for("auto", ["CPUExecutionProvider"]) is None
    assert device_for("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"]) == "cuda"
    assert device_for("on", ["CPUExecutionProvider"]) == "cpu"
    assert device_for("off", ["TensorrtExecutionProvider"]) is None
    paths = AppPaths.under(tmp_path)
    for mode, built in (("auto", False), ("on", True), ("off", False)):
        config = Config()
        config.swap.enhancer = True
        config.models.device_compositing = mode  # type: ignore[assignment]
        loaded = neural_loader(config, bench_store(config, paths, models), paths, ("cpu",))()
        compositor = loaded.compositor
        assert (compositor is not None) == built, mode
        assert (loaded.detector._letterbox is not None) == built  # type: ignore[attr-defined]
        if compositor is not None:
            assert isinstance(compositor, DeviceCompositor) and compositor.where == "cpu"
            assert compositor._enhancer is not None, "the local enhancer runs on the device"
    config = Config()
    config.swap.many_faces = True
    loaded = neural_loader(config, bench_store(config, paths, models), paths, ("cpu",))()
    assert isinstance(loaded.swapper, InSwapper)
    assert not loaded.swapper._single, "many faces: the fixed-batch file is batched"


def test_captured_graphs_have_fixed_shapes_and_fall_back_when_refused(
    models: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """models.cuda_graph with device compositing: one fixed-shape session per frame size and set
    of buffers (what a CUDA graph replays), the same pixels as the plain graphs; a provider that
    refuses the capture gets the plain graph and one warning."""
    frame, kps = astronaut_pair()
    faces = job(kps, np.zeros((2, 512), np.float32))
    made: list[tuple[str, bool]] = []

    def maker(data: bytes, what: str, captured: bool) -> Any:
        made.append((what, captured))
        return graph_session(data)

    swapper = session(models / "inswapper_128.onnx")  # batch fixed at 1: one call per face
    look = Look()
    plain = run(
        DeviceCompositor(graph_session, swapper, CATALOG["inswapper_128"], "cpu"),
        frame,
        faces,
        look,
    )
    path = DeviceCompositor(maker, swapper, CATALOG["inswapper_128"], "cpu", captured=True)
    assert np.array_equal(run(path, frame, faces, look), plain)
    # crop: one set of buffers; paste: frame -> canvas A, then A -> B
    assert sorted(made) == [("device crop", True), ("device paste", True), ("device paste", True)]
    run(path, frame, faces, look)
    assert len(made) == 3, "the same shape and buffers reuse their sessions"
    run(path, np.ascontiguousarray(frame[:480, :700]), faces, look)
    assert len(made) == 6, "a new frame size gets its own fixed-shape sessions"

    def refusing(data: bytes, what: str, captured: bool) -> Any:
        if captured:
            raise RuntimeError("graph capture is not supported here")
        return graph_session(data)

    fallback = DeviceCompositor(refusing, swapper, CATALOG["inswapper_128"], "cpu", captured=True)
    assert np.array_equal(run(fallback, frame, faces, look), plain)
    assert sum("no CUDA graph" in r.message for r in caplog.records) == 2  # crop, paste


def test_bench_runs_the_device_path_end_to_end(models: Path, tmp_path: Path) -> None:
    """`vcamswap bench --device-compositing on` through the three-thread pipeline: every frame
    processed, the device stages reported (transfer is the upload and download)."""
    from tests.onnx_models import make_scrfd
    from vcamswap.config import AppPaths
    from vcamswap.tools.bench import BenchRequest, run_bench

    make_scrfd(models / "det_10g.onnx")
    result = run_bench(
        BenchRequest(
            engine="neural",
            models=models,
            providers="cpu",
            size=(320, 240),
            frames=40,
            pin_faces=True,
            device_compositing="on",
        ),
        AppPaths.under(tmp_path),
    )
    assert result["frames"] > 0 and result["dropped"] == 0
    assert result["providers"]["device_compositing"] == "on"
    stages = result["stages_ms"]
    assert stages["transfer"] is not None and stages["swap"] > 0 and stages["paste"] > 0


def test_a_source_that_keeps_changing_size_does_not_grow_device_memory(models: Path) -> None:
    """Window-sized buffers are kept per size, up to MAX_SIZES sizes; one more releases them
    (and the graphs' bindings, cached by buffer identity) and the output stays right; the
    swapper's own buffers stay where they are. (Frames about the face's window side: each
    size, or its window, is a new buffer size; a size seen again may get another window, so
    its frame may differ by float rounding of the shifted matrices.)"""
    path = DeviceCompositor(
        graph_session, session(models / "inswapper_128.onnx"), CATALOG["inswapper_128"], "cpu"
    )
    frame = smooth_frame(300, 400)
    faces = job([KPS], np.zeros((1, 512), np.float32))
    expected: dict[tuple[int, int], BgrImage] = {}
    counts: list[int] = []
    sizes = [(200 + 5 * i, 240 + 5 * i) for i in range(devicepath.MAX_SIZES + 1)]
    for size in [*sizes, sizes[0], sizes[1], (210, 252)]:
        image = np.ascontiguousarray(frame[: size[0], : size[1]])
        out = run(path, image, faces)
        if size in expected:
            assert np.abs(out.astype(int) - expected[size]).max() <= 1
        expected[size] = out
        counts.append(len(path._sizes))
        assert len(path._sizes) <= devicepath.MAX_SIZES
        frame_sized = [k for k in path._buffers.held() if k[0] in devicepath.FRAME_SIZED]
        assert len(frame_sized) <= 3 * devicepath.MAX_SIZES  # a frame and two canvases each
    assert any(b < a for a, b in itertools.pairwise(counts)), "earlier sizes were released"
    swap_buffers = [k for k in path._buffers.held() if k[0] == "blob"]
    assert len(swap_buffers) == 1, "the swapper's buffers survive (a CUDA graph points at them)"
    assert not np.array_equal(expected[sizes[0]], frame[:200, :240])


def test_doctor_says_where_the_neural_engine_composites(tmp_path: Path) -> None:
    """Here (CPU provider): 'auto' is the OpenCV path; 'on' warns, naming the fix."""
    from vcamswap.config import AppPaths
    from vcamswap.tools.doctor import run_doctor

    paths = AppPaths.under(tmp_path)
    checks = {c.name: c for c in run_doctor(paths)}
    assert checks["device-compositing"].level == "OK"
    assert "OpenCV" in checks["device-compositing"].message
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text("models:\n  device_compositing: 'on'\n")
    checks = {c.name: c for c in run_doctor(paths)}
    assert checks["config"].level == "OK"
    compositing = checks["device-compositing"]
    assert compositing.level == "WARN" and "device_compositing: auto" in compositing.fix


def make_mixing(path: Path) -> Path:
    """inswapper-shaped with the batch fixed at 1 and a graph that mixes the rows of a batch
    (adds the batch mean): made dynamic, it would run but give every face the wrong pixels."""
    nodes = [
        helper.make_node("ReduceMean", ["target"], ["mean"], axes=[0], keepdims=1),
        helper.make_node("Add", ["target", "mean"], ["sum"]),
        helper.make_node("ReduceMean", ["source"], ["m"], axes=[1], keepdims=1),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Unsqueeze", ["z", "axes"], ["z4"]),
        helper.make_node("Add", ["sum", "z4"], ["output"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
        numpy_helper.from_array(np.eye(512, dtype=np.float32), "emap"),
    ]
    graph = helper.make_graph(
        nodes,
        "mixing",
        [
            helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 128, 128]),
            helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 512]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 128, 128])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


def test_many_faces_batch_a_fixed_batch_swapper_when_its_graph_allows(
    models: Path, tmp_path: Path
) -> None:
    """swap.many_faces with a swapper whose file fixes the batch at 1 (the published
    inswapper): the loader makes the batch dynamic when batched rows equal single runs, so all
    faces go in one call with the same pixels; a graph that mixes rows keeps one call per face.
    """
    from vcamswap.inference.session import SessionFactory, SessionOptions, fixed_batch
    from vcamswap.processors.neural_load import batched_swapper

    factory = SessionFactory(SessionOptions(providers=("cpu",)))
    path = models / "inswapper_128.onnx"
    assert fixed_batch(session(path))
    batched = batched_swapper(factory, path)
    assert batched is not None and not fixed_batch(batched)
    frame, kps = astronaut_pair()
    crops = [align.crop(frame, align.estimate_norm(k, 128, "arcface_128"), 128) for k in kps]
    latent = np.ones((1, 512), np.float32) / np.sqrt(512.0)
    one_by_one = InSwapper(session(path), CATALOG["inswapper_128"], read_emap(path))
    together = InSwapper(batched, CATALOG["inswapper_128"], read_emap(path))
    for a, b in zip(one_by_one.swap(crops, latent), together.swap(crops, latent), strict=True):
        assert np.array_equal(a, b)
    assert batched_swapper(factory, make_mixing(tmp_path / "mixing.onnx")) is None
    assert batched_swapper(factory, models / "inswapper_batch.onnx") is None  # already dynamic


def test_a_device_failure_falls_back_to_the_host_path_once(
    models: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A device path that fails at run time (a graph the provider cannot run, device memory)
    costs no frame: that frame and the rest of the run take the CPU path, with one warning
    that names the setting."""
    frame, kps = astronaut_pair()
    host, device = processors(models, "inswapper_128.onnx", TwoFaces(kps), Toggles())
    compositor = device._compositor
    assert isinstance(compositor, DeviceCompositor)

    def broken(*_args: Any, **_kwargs: Any) -> BgrImage:
        raise RuntimeError("CUDA error: out of memory")

    compositor.composite = broken  # type: ignore[method-assign]
    closed: list[bool] = []
    compositor.close = lambda: closed.append(True)  # type: ignore[method-assign]
    for seq in (1, 2):
        expected = host.process(Frame(frame, seq, 0.0)).image
        out = device.process(Frame(frame, seq, 0.0))
        assert out.swapped and np.array_equal(out.image, expected)
    assert device._compositor is not None and device._compositor.where == "host"
    assert closed == [True], "the failed device compositor was closed, once"
    warnings = [r for r in caplog.records if "device compositing failed" in r.message]
    assert len(warnings) == 1 and "device_compositing: off" in warnings[0].message
