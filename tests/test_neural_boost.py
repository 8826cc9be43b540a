"""Pixel boost (swap.resolution) and the second swapper family (GHOST): checked against
reference implementations written here from the published formulas, on generated models with
the real signatures, on both compositing paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.helpers.models import five_points, session
from tests.onnx_models import _save, make_arcface, make_converter, make_ghost
from tests.test_devicegraphs import graph_session
from tests.test_devicepath import TwoFaces
from vcamswap.compositing import FaceJob, HostCompositor, Look
from vcamswap.compositing.blend import feather_mask, paste_back, zero_border
from vcamswap.compositing.device import DeviceCompositor
from vcamswap.compositing.host import from_tiles, to_tiles
from vcamswap.errors import ModelError
from vcamswap.inference import align
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.ghost import GhostSwapper
from vcamswap.inference.models import ArcFaceEmbedder, InSwapper
from vcamswap.processors.neural import (
    NeuralModels,
    NeuralOptions,
    NeuralSwapProcessor,
    build_identity,
)
from vcamswap.runtime import RuntimeState, Toggles
from vcamswap.samples import sample_photo, sample_photo_path
from vcamswap.types import BgrImage, Frame, NullStageRecorder

PLAIN = Look(color_correction=False)
V1_256 = np.array(
    [[39.73, 51.138], [72.27, 51.138], [56.0, 68.493], [42.463, 87.01], [69.537, 87.01]]
) * (256 / 112)


def make_blur_swapper(path: Path, batch: int | str) -> Path:
    """inswapper-shaped, output = 1 - a 3x3 box blur of the target: each output pixel depends
    on its neighbours, so how a crop is cut into tiles shows in the result."""
    weight = np.full((3, 1, 3, 3), 1.0 / 9.0, np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["target", "w"], ["blur"], group=3, pads=[1, 1, 1, 1]),
            helper.make_node("Sub", ["one", "blur"], ["inv"]),
            helper.make_node("ReduceMean", ["source"], ["m"], axes=[1], keepdims=1),
            helper.make_node("Mul", ["m", "zero"], ["z"]),
            helper.make_node("Unsqueeze", ["z", "axes"], ["z4"]),
            helper.make_node("Add", ["inv", "z4"], ["output"]),
        ],
        "blur_swapper",
        [
            helper.make_tensor_value_info("target", TensorProto.FLOAT, [batch, 3, 128, 128]),
            helper.make_tensor_value_info("source", TensorProto.FLOAT, [batch, 512]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, 3, 128, 128])],
        [
            numpy_helper.from_array(weight, "w"),
            numpy_helper.from_array(np.array(1.0, np.float32), "one"),
            numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
            numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
            numpy_helper.from_array(np.eye(512, dtype=np.float32), "emap"),
        ],
    )
    return _save(graph, path)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("boost-models")
    make_blur_swapper(folder / "blur.onnx", 1)
    make_blur_swapper(folder / "blur_batch.onnx", "N")
    make_arcface(folder / "w600k_r50.onnx")
    make_ghost(folder / "ghost.onnx")
    make_ghost(folder / "ghost_tint.onnx", tint=True)
    make_converter(folder / "crossface.onnx")
    return folder


def reference_boost(frame: BgrImage, kps: np.ndarray[Any, Any], sess: Any, tiles: int) -> BgrImage:
    """Pixel boost by the book: align at tiles x 128 px, run the swapper on each interleaved
    tile (pixels a, a + tiles, ... down and b, b + tiles, ... across), put the pixels back where
    they came from, paste with the crop's feathered box mask."""
    side = 128 * tiles
    matrix = align.estimate_norm(kps, side, "arcface_128")
    crop = cv2.warpAffine(frame, matrix, (side, side), borderValue=0.0)
    swapped = np.zeros_like(crop)
    latent = np.full((1, 512), 1 / np.sqrt(512.0), np.float32)
    for a in range(tiles):
        for b in range(tiles):
            tile = np.ascontiguousarray(crop[a::tiles, b::tiles])
            blob = tile[..., ::-1].astype(np.float32).transpose(2, 0, 1)[None] / 255.0
            out = sess.run(None, {"target": blob, "source": latent})[0][0]
            rgb = np.clip(out, 0.0, 1.0).transpose(1, 2, 0) * 255.0
            swapped[a::tiles, b::tiles] = np.clip(rgb[..., ::-1] + 0.5, 0, 255).astype(np.uint8)
    out_frame: BgrImage = frame.copy()
    alpha = feather_mask(side)
    paste_back(out_frame, swapped, matrix, alpha, zero_border(alpha))
    return out_frame


def test_tiles_interleave_pixels_and_come_back_exactly() -> None:
    image = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    for tiles in (1, 2, 4):
        parts = to_tiles(image, tiles)
        assert len(parts) == tiles * tiles and parts[0].shape == (512 // tiles,) * 2 + (3,)
        assert np.array_equal(
            parts[tiles + 1 if tiles > 1 else 0], image[1 % tiles :: tiles, 1 % tiles :: tiles]
        )
        assert np.array_equal(from_tiles(parts, tiles), image)


@pytest.mark.parametrize("tiles", [2, 4])
def test_host_pixel_boost_matches_the_reference(models: Path, tiles: int) -> None:
    frame = sample_photo("astronaut")
    kps = five_points(frame)
    sess = session(models / "blur.onnx")
    host = HostCompositor(InSwapper(sess, CATALOG["inswapper_128"], np.eye(512, dtype=np.float32)))
    matrix = align.estimate_norm(kps, 128, "arcface_128") * tiles
    latent = np.full((1, 512), 1 / np.sqrt(512.0), np.float32)
    out = host.composite(
        frame, FaceJob([kps], [matrix], latent, tiles), PLAIN, None, NullStageRecorder()
    )
    expected = reference_boost(frame, kps, sess, tiles)
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 1
    plain = host.composite(
        frame, FaceJob([kps], [matrix / tiles], latent), PLAIN, None, NullStageRecorder()
    )
    assert np.abs(out.astype(int) - plain.astype(int)).max() > 20  # tiling really happened


@pytest.mark.parametrize(
    ("name", "tiles"), [("blur.onnx", 2), ("blur_batch.onnx", 2), ("blur_batch.onnx", 4)]
)
def test_device_pixel_boost_matches_the_host(models: Path, name: str, tiles: int) -> None:
    """One call per tile for a swapper fixed at batch 1, all tiles in one call otherwise."""
    frame = sample_photo("astronaut")
    kps = [five_points(frame), five_points(frame) + np.float32(60)]
    sess = session(models / name)
    spec = CATALOG["inswapper_128"]
    host = HostCompositor(InSwapper(sess, spec, np.eye(512, dtype=np.float32)))
    device = DeviceCompositor(graph_session, sess, spec, "cpu")
    job = FaceJob(
        kps,
        [align.estimate_norm(k, 128, "arcface_128") * tiles for k in kps],
        np.full((1, 512), 1 / np.sqrt(512.0), np.float32),
        tiles,
    )
    for look in (PLAIN, Look(sharpness=0.3)):
        a = host.composite(frame, job, look, None, NullStageRecorder())
        b = device.composite(frame, job, look, None, NullStageRecorder())
        diff = np.abs(a.astype(int) - b.astype(int))
        assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 8


def test_the_engine_asks_for_the_boosted_crop(models: Path) -> None:
    frame = sample_photo("astronaut")
    kps = five_points(frame)
    jobs: list[FaceJob] = []

    class Recording(HostCompositor):
        def composite(self, image: BgrImage, faces: FaceJob, *rest: Any) -> BgrImage:
            jobs.append(faces)
            return super().composite(image, faces, *rest)

    def load() -> NeuralModels:
        swapper = InSwapper(
            session(models / "blur.onnx"), CATALOG["inswapper_128"], np.eye(512, dtype=np.float32)
        )
        embedder = ArcFaceEmbedder(session(models / "w600k_r50.onnx"), CATALOG["w600k_r50"])
        return NeuralModels(TwoFaces([kps]), embedder, swapper, None, Recording(swapper))

    face = sample_photo_path("grace_hopper")
    processor = NeuralSwapProcessor(
        load, lambda _n: face, RuntimeState(Toggles()), NeuralOptions(resolution=512)
    )
    processor.start()
    assert processor.process(Frame(frame, 1, 0.0)).swapped
    assert jobs[-1].tiles == 4
    np.testing.assert_allclose(
        jobs[-1].matrices[0], align.estimate_norm(jobs[-1].kps[0], 512, "arcface_128"), atol=1e-9
    )
    processor.set_quality(2)  # the governor's "pixel boost off"
    processor.process(Frame(frame, 2, 1 / 30))
    assert jobs[-1].tiles == 1


def ghost(
    models: Path, name: str = "ghost.onnx"
) -> tuple[GhostSwapper, Any, np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    from tests.onnx_models import make_converter as _converter

    path, w, b = _converter(models / "crossface_check.onnx")
    sess = session(models / name)
    return GhostSwapper(sess, CATALOG["ghost_3_256"], session(path)), sess, w, b


def test_ghost_identity_is_the_converter_output_of_the_raw_embedding(models: Path) -> None:
    """GHOST's converter takes ArcFace's raw output and its output goes in unnormalised."""
    swapper, _, w, b = ghost(models)
    embedder = ArcFaceEmbedder(session(models / "w600k_r50.onnx"), CATALOG["w600k_r50"])
    image = sample_photo("grace_hopper")
    raw = embedder.embed_raw(image, five_points(image))
    assert abs(float(np.linalg.norm(raw)) - 1.0) > 0.1, "the raw vector, not the unit one"

    class One:
        def resize(self, size: int | None) -> None: ...

        def detect(self, img: BgrImage) -> Any:
            return TwoFaces([five_points(img)]).detect(img)

    identity = build_identity(NeuralModels(One(), embedder, swapper), image, "grace")
    np.testing.assert_allclose(identity.latent[0], raw @ w + b, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(identity.embedding, raw / np.linalg.norm(raw), atol=1e-6)


def test_ghost_crop_template_and_normalisation(models: Path) -> None:
    """The older arcface points at 256 px, RGB in (x / 255 - 0.5) / 0.5, output read back
    from [-1, 1]: a GHOST that returns its input gives back the crop to rounding."""
    swapper, _, _, _ = ghost(models)
    frame = cv2.resize(sample_photo("astronaut"), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    kps = five_points(frame)
    matrix = swapper.matrix(kps)
    np.testing.assert_allclose(matrix, align.similarity(kps, V1_256), atol=1e-9)
    crop = align.crop(frame, matrix, 256)
    (back,) = swapper.swap([crop], swapper.latent(np.ones(512, np.float32)))
    assert np.abs(back.astype(int) - crop.astype(int)).max() <= 1


def test_ghost_runs_on_both_paths_with_its_inputs_in_its_order(models: Path) -> None:
    """The GHOST export takes (source, target); both paths feed each input by its rank."""
    swapper, sess, _, _ = ghost(models, "ghost_tint.onnx")
    frame = sample_photo("astronaut")
    kps = five_points(frame)
    job = FaceJob([kps], [swapper.matrix(kps)], swapper.latent(np.full(512, 0.5, np.float32)))
    host = HostCompositor(swapper)
    device = DeviceCompositor(graph_session, sess, CATALOG["ghost_3_256"], "cpu")
    for look in (PLAIN, Look()):
        a = host.composite(frame, job, look, None, NullStageRecorder())
        b = device.composite(frame, job, look, None, NullStageRecorder())
        diff = np.abs(a.astype(int) - b.astype(int))
        assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 8
        assert np.abs(a.astype(int) - frame.astype(int)).max() > 40


def test_a_wrong_converter_file_is_named(models: Path, tmp_path: Path) -> None:
    sess = session(models / "ghost.onnx")
    with pytest.raises(ModelError, match="crossface_ghost"):
        GhostSwapper(sess, CATALOG["ghost_3_256"], sess)


def test_a_remote_ghost_is_checked_against_its_own_signature() -> None:
    """The Triton check takes the swapper's size from its catalog entry and its inputs in
    either order."""
    from vcamswap.inference.remote import signature_fits

    ghost_spec, inswapper = CATALOG["ghost_3_256"], CATALOG["inswapper_128"]
    assert signature_fits(ghost_spec, [[1, 512], [1, 3, 256, 256]], 1)
    assert signature_fits(ghost_spec, [[-1, 3, 256, 256], [-1, 512]], 1)
    assert not signature_fits(ghost_spec, [[1, 3, 128, 128], [1, 512]], 1)
    assert signature_fits(inswapper, [[1, 3, 128, 128], [1, 512]], 1)
    assert not signature_fits(inswapper, [[1, 3, 128, 128], [1, 512]], 2)
    assert signature_fits(CATALOG["det_10g"], [[1, 3, -1, -1]], 9)


@pytest.mark.parametrize("fp16", [False, True])
def test_the_benchmark_models_of_the_parser_and_ghost_load_and_run(
    tmp_path: Path, fp16: bool
) -> None:
    """benchmarks/make_quality_models.py (at 1/16 of the channels) makes models the engine's
    classes take: the speed rows in BENCHMARKS.md run these shapes."""
    import importlib.util
    import sys

    from vcamswap.inference.parsing import BiSeNetParser

    root = Path(__file__).resolve().parents[1] / "benchmarks"
    sys.path.insert(0, str(root))
    try:
        spec = importlib.util.spec_from_file_location(
            "make_quality_models", root / "make_quality_models.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_quality_models"] = module
        spec.loader.exec_module(module)
        module.write_all(tmp_path, fp16=fp16, scale=1 / 16)
    finally:
        sys.path.remove(str(root))
    crop = sample_photo("astronaut")
    parser = BiSeNetParser(
        session(tmp_path / "bisenet_resnet_34.onnx"), CATALOG["bisenet_resnet_34"]
    )
    (labels,) = parser.parse([crop])
    assert labels.shape == (512, 512) and labels.max() < 19
    swapper = GhostSwapper(
        session(tmp_path / "ghost_3_256.onnx"),
        CATALOG["ghost_3_256"],
        session(tmp_path / "crossface_ghost.onnx"),
    )
    latent = swapper.latent(np.full(512, 0.3, np.float32))
    (out,) = swapper.swap([cv2.resize(crop, (256, 256))], latent)
    assert out.shape == (256, 256, 3) and out.dtype == np.uint8


def test_a_swapper_file_of_the_wrong_family_is_named_not_a_traceback(models: Path) -> None:
    from tests.onnx_models import make_inswapper

    inswapper = make_inswapper(models / "plain_inswapper.onnx")
    with pytest.raises(ModelError, match="128 px faces, but the ghost_3_256 slot needs 256"):
        GhostSwapper(session(inswapper), CATALOG["ghost_3_256"], session(models / "crossface.onnx"))
    with pytest.raises(ModelError, match="256 px faces, but the inswapper_128 slot needs 128"):
        InSwapper(session(models / "ghost.onnx"), CATALOG["inswapper_128"], np.eye(512))
    with pytest.raises(ModelError, match="not an inswapper model"):
        InSwapper(session(inswapper), CATALOG["inswapper_128"], np.zeros(3, np.float32))
