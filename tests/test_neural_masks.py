"""The face-parser mask (swap.mask: parser): the parser's pre- and post-processing against
the reference formulas, and end to end through the neural engine on both compositing paths:
an object in front of the face stays the camera's, the rest of the face is swapped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.helpers.models import five_points, session
from tests.onnx_models import make_arcface, make_inswapper, make_parser
from tests.test_devicegraphs import graph_session
from tests.test_devicepath import TwoFaces
from vcamswap.compositing.device import DeviceCompositor
from vcamswap.compositing.occlusion import REGIONS, OcclusionMasks, classes_of, region_mask
from vcamswap.inference import align
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.models import ArcFaceEmbedder, InSwapper
from vcamswap.inference.onnxfile import read_emap
from vcamswap.inference.parsing import BiSeNetParser
from vcamswap.processors.neural import NeuralModels, NeuralOptions, NeuralSwapProcessor
from vcamswap.runtime import RuntimeState, Toggles
from vcamswap.samples import sample_photo, sample_photo_path
from vcamswap.types import BgrImage, Frame

GREEN = (40, 200, 40)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mask-models")
    make_arcface(folder / "w600k_r50.onnx")
    make_inswapper(folder / "inswapper_128.onnx", identity=False)
    make_parser(folder / "parser.onnx")
    make_parser(folder / "parser_batch.onnx", batch="N")
    return folder


def reference_labels(crop_image: BgrImage) -> np.ndarray[Any, Any]:
    """What the generated parser computes, straight from the crop's pixels: background where
    green exceeds red by 0.2 of full scale, skin elsewhere."""
    rgb = crop_image[..., ::-1].astype(np.float64) / 255.0
    return np.where(rgb[..., 1] - rgb[..., 0] > 0.2, 0, 1).astype(np.uint8)


@pytest.mark.parametrize("name", ["parser.onnx", "parser_batch.onnx"])
def test_parser_input_and_labels_follow_the_reference_formulas(models: Path, name: str) -> None:
    """RGB, /255, ImageNet mean and deviation in; the first output's arg-max out. A wrong
    channel order or normalisation moves the class boundary the model draws."""
    image = sample_photo("astronaut")
    cv2.rectangle(image, (185, 146), (265, 156), GREEN, -1)
    matrix = align.estimate_norm(five_points(image), 512, "arcface_128")
    crops = [align.crop(image, matrix, 512), cv2.flip(align.crop(image, matrix, 512), 1)]
    parser = BiSeNetParser(session(models / name), CATALOG["bisenet_resnet_34"])
    labels = parser.parse(crops)
    for got, crop_image in zip(labels, crops, strict=True):
        expected = reference_labels(crop_image)
        assert (got != expected).mean() < 0.001  # float rounding right at the threshold
        assert 0.02 < (got == 0).mean() < 0.5


def test_region_mask_keeps_the_chosen_regions_with_a_soft_edge() -> None:
    labels = np.full((512, 512), 17, np.uint8)  # hair everywhere
    labels[100:400, 100:400] = 1  # skin
    labels[200:260, 150:350] = 6  # glasses
    default = classes_of(("skin", "brows", "eyes", "nose", "mouth", "lips"))
    mask = region_mask(labels, default, 128)
    assert mask.shape == (128, 128) and mask.dtype == np.float32
    assert mask[80, 64] > 0.99 and mask[10, 10] < 0.01  # skin kept, hair not
    assert mask[57, 64] < 0.2  # the glasses stay the camera's
    with_glasses = region_mask(labels, classes_of(("skin", "glasses")), 128)
    assert with_glasses[57, 64] > 0.99
    edge = mask[64, 15:35]
    soft = edge[(edge > 0.0) & (edge < 1.0)]
    assert len(soft) >= 2 and np.all(np.diff(edge) >= 0)  # a soft rise, not a step
    assert set(REGIONS) >= {"skin", "brows", "eyes", "nose", "mouth", "lips", "glasses"}


def test_masks_follow_each_face_and_reuse_between_parser_runs(models: Path) -> None:
    image = sample_photo("astronaut")
    matrix = align.estimate_norm(five_points(image), 128, "arcface_128")
    calls: list[int] = []
    parser = BiSeNetParser(session(models / "parser.onnx"), CATALOG["bisenet_resnet_34"])

    class Counting:
        spec = parser.spec

        def parse(self, crops: list[BgrImage]) -> list[Any]:
            calls.append(len(crops))
            return parser.parse(crops)

    masks = OcclusionMasks(Counting(), keep_previous=0.5)
    first = masks.masks(image, [matrix], 128, (1,), refresh=True)
    again = masks.masks(image, [matrix, matrix], 128, (1, 2), refresh=False)
    assert calls == [1, 1]  # only the new face was parsed
    assert np.array_equal(first[0], again[0])
    changed = image.copy()
    cv2.rectangle(changed, (185, 146), (265, 156), GREEN, -1)
    blended = masks.masks(changed, [matrix], 128, (1,), refresh=True)[0]
    fresh = OcclusionMasks(parser).masks(changed, [matrix], 128, (9,), refresh=True)[0]
    # half of the new mask, half of the old one (temporal smoothing), per face
    np.testing.assert_allclose(blended, 0.5 * first[0] + 0.5 * fresh, atol=1e-5)


def engine(
    models: Path, frame: BgrImage, device: bool, parser: bool, **options: Any
) -> NeuralSwapProcessor:
    kps = five_points(frame)

    def load() -> NeuralModels:
        swap_session = session(models / "inswapper_128.onnx")
        spec = CATALOG["inswapper_128"]
        return NeuralModels(
            TwoFaces([kps]),
            ArcFaceEmbedder(session(models / "w600k_r50.onnx"), CATALOG["w600k_r50"]),
            InSwapper(swap_session, spec, read_emap(models / "inswapper_128.onnx")),
            None,
            DeviceCompositor(graph_session, swap_session, spec, "cpu") if device else None,
            parser=BiSeNetParser(session(models / "parser.onnx"), CATALOG["bisenet_resnet_34"]),
        )

    face = sample_photo_path("grace_hopper")
    processor = NeuralSwapProcessor(
        load,
        lambda _n: face,
        RuntimeState(Toggles()),
        NeuralOptions(parser=parser, color_correction=False, **options),
    )
    processor.start()
    return processor


@pytest.mark.parametrize("device", [False, True], ids=["host", "device"])
def test_an_object_in_front_of_the_face_stays_visible(models: Path, device: bool) -> None:
    """A green bar (a microphone, a hand) across the lower face: with the parser mask the bar
    comes out as the camera showed it while the rest of the face is swapped; with the box mask
    the swap covers it. Judged on the output's pixels against the input's."""
    frame = sample_photo("astronaut")
    cv2.rectangle(frame, (185, 146), (265, 156), GREEN, -1)
    bar = np.zeros(frame.shape[:2], bool)
    bar[148:155, 192:258] = True
    cheek = np.zeros(frame.shape[:2], bool)
    cheek[108:128, 205:245] = True

    def run(make: Callable[[], NeuralSwapProcessor]) -> BgrImage:
        out = make().process(Frame(frame, 1, 0.0))
        assert out.swapped
        return out.image

    masked = run(lambda: engine(models, frame, device, parser=True))
    boxed = run(lambda: engine(models, frame, device, parser=False))
    moved = np.abs(masked.astype(int) - frame.astype(int)).max(axis=2)
    assert np.median(moved[bar]) <= 2, "the object in front of the face was painted over"
    assert np.median(moved[cheek]) > 40, "the face itself was not swapped"
    covered = np.abs(boxed.astype(int) - frame.astype(int)).max(axis=2)
    assert (
        np.median(covered[bar]) > 40
    )  # the box mask pastes over it: the parser made the difference


def test_both_paths_paste_the_same_parser_mask(models: Path) -> None:
    frame = sample_photo("astronaut")
    cv2.rectangle(frame, (185, 146), (265, 156), GREEN, -1)
    host = engine(models, frame, False, parser=True, parser_every=2)
    device = engine(models, frame, True, parser=True, parser_every=2)
    for seq in (1, 2, 3):
        a = host.process(Frame(frame, seq, seq / 30))
        b = device.process(Frame(frame, seq, seq / 30))
        diff = np.abs(a.image.astype(int) - b.image.astype(int))
        assert diff.mean() < 0.5 and np.percentile(diff, 99.9) <= 8


def test_the_loader_builds_the_parser_and_ghost_from_the_config(tmp_path: Path) -> None:
    """models.swapper: ghost_3_256 loads GHOST with its converter; swap.mask auto uses the
    parser once its file is there and the box without it; 'parser' without the file names
    the command that fetches it."""
    from tests.onnx_models import make_converter, make_ghost, make_scrfd
    from vcamswap.config import AppPaths, Config
    from vcamswap.errors import ModelError
    from vcamswap.inference.ghost import GhostSwapper
    from vcamswap.processors.engines import engine_choice, neural_loader, parser_model
    from vcamswap.tools.bench import bench_store

    folder = tmp_path / "models"
    folder.mkdir()
    make_scrfd(folder / "det_10g.onnx")
    make_arcface(folder / "w600k_r50.onnx")
    make_ghost(folder / "ghost_3_256.onnx")
    make_converter(folder / "crossface_ghost.onnx")
    paths = AppPaths.under(tmp_path / "home")
    config = Config()
    config.models.swapper = "ghost_3_256"
    store = bench_store(config, paths, folder)
    assert parser_model(config, store) is None  # auto, no parser file: the box
    loaded = neural_loader(config, store, paths, ("cpu",))()
    assert isinstance(loaded.swapper, GhostSwapper) and loaded.parser is None
    make_parser(folder / "bisenet_resnet_34.onnx")
    store = bench_store(config, paths, folder)
    assert parser_model(config, store) == "bisenet_resnet_34"
    loaded = neural_loader(config, store, paths, ("cpu",))()
    assert isinstance(loaded.parser, BiSeNetParser)
    config.models.parser = "bisenet_resnet_18"
    config.swap.mask = "parser"
    config.swap.engine = "neural"
    with pytest.raises(ModelError, match="vcamswap models fetch bisenet_resnet_18"):
        engine_choice(config, bench_store(config, paths, folder))


def test_doctor_says_which_masks_and_swappers_are_available(tmp_path: Path) -> None:
    from tests.onnx_models import make_converter, make_ghost
    from vcamswap.config import AppPaths, Config
    from vcamswap.config.sections.models import ModelOverride
    from vcamswap.inference.store import file_sha256
    from vcamswap.tools.doctor.engines import mask_and_swapper_checks

    paths = AppPaths.under(tmp_path / "home")
    config = Config()

    def checks() -> dict[str, Any]:
        return {c.name: c for c in mask_and_swapper_checks(config, paths)}

    found = checks()
    assert "vcamswap models fetch bisenet_resnet_34" in found["mask"].message
    assert found["swappers"].level == "WARN"
    assert found["swappers"].fix == "vcamswap models fetch inswapper_128"
    assert "vcamswap models fetch ghost_3_256" in found["swappers"].message
    config.swap.mask = "parser"
    assert checks()["mask"].level == "WARN" and "cannot start" in checks()["mask"].message
    files = {
        "bisenet_resnet_34": make_parser(tmp_path / "parser.onnx"),
        "ghost_3_256": make_ghost(tmp_path / "ghost.onnx"),
    }
    config.models.overrides = {
        name: ModelOverride(path=path, sha256=file_sha256(path)) for name, path in files.items()
    }
    config.models.swapper = "ghost_3_256"
    config.swap.mask_regions = ["skin", "glasses", "eyes"]
    found = checks()
    assert found["mask"].level == "OK" and "face parser bisenet_resnet_34" in found["mask"].message
    assert "glasses" not in found["mask"].message.split("stays visible")[0].split("(")[-1]
    # GHOST without its converter cannot run
    assert found["swappers"].level == "WARN" and "crossface_ghost" in found["swappers"].message
    converter = make_converter(tmp_path / "crossface.onnx")[0]
    config.models.overrides["crossface_ghost"] = ModelOverride(
        path=converter, sha256=file_sha256(converter)
    )
    found = checks()
    assert found["swappers"].level == "OK"
    assert found["swappers"].message.startswith(
        "using ghost_3_256 at 256 px; available: ghost_3_256"
    )
    config.swap.mask = "box"
    assert "parser (bisenet_resnet_34)" in checks()["mask"].message


def test_fetching_ghost_brings_its_converter_and_bench_refuses_a_config(tmp_path: Path) -> None:
    import argparse

    from tests.test_cli import vcamswap
    from vcamswap.cli.models_cmd import _chosen
    from vcamswap.config import Config

    config = Config()
    fetch = _chosen(argparse.Namespace(name="ghost_3_256", action="fetch"), config)
    assert fetch == ["ghost_3_256", "crossface_ghost"]
    assert _chosen(argparse.Namespace(name="ghost_3_256", action="verify"), config) == [
        "ghost_3_256"
    ]
    needed = _chosen(argparse.Namespace(name=None, action="fetch"), config)
    assert "bisenet_resnet_34" in needed  # swap.mask auto uses it once it is there
    result = vcamswap(tmp_path / "home", "bench", "--config", "x.yaml", timeout=60)
    assert result.returncode == 2 and "bench does not read a config file" in result.stderr
    assert "Traceback" not in result.stderr
