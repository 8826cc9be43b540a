"""Neural engine correctness on generated models with the real signatures, compared with the
insightface 2.1 reference implementation where one exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import insightface  # noqa: F401 - the reference implementation (README test command installs it)
import numpy as np
import pytest

from tests.helpers.models import five_points, session
from tests.onnx_models import make_arcface, make_gfpgan, make_inswapper, make_scrfd
from vcamswap.compositing.blend import paste_box
from vcamswap.inference import align
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.models import ArcFaceEmbedder, GfpganEnhancer, InSwapper, ScrfdDetector
from vcamswap.inference.onnxfile import read_emap
from vcamswap.ports import DetectedFace
from vcamswap.processors.neural import NeuralModels, NeuralOptions, NeuralSwapProcessor
from vcamswap.runtime import RuntimeState, Toggles
from vcamswap.samples import sample_photo, sample_photo_path
from vcamswap.types import BgrImage, FaceBox, Frame


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    make_scrfd(folder / "det_10g.onnx")
    make_arcface(folder / "w600k_r50.onnx")
    make_inswapper(folder / "inswapper_128.onnx")
    make_inswapper(folder / "inswapper_batch.onnx", batch="N")
    make_inswapper(folder / "inswapper_invert.onnx", identity=False)
    make_gfpgan(folder / "GFPGANv1.4.onnx")
    return folder


def test_scrfd_matches_insightface(model_dir: Path, group_photo: BgrImage) -> None:
    from insightface.model_zoo.scrfd import SCRFD

    reference = SCRFD(str(model_dir / "det_10g.onnx"))
    reference.prepare(-1, input_size=(640, 640))
    ref_boxes, ref_kps = reference.detect(group_photo, input_size=(640, 640))
    ours = ScrfdDetector(session(model_dir / "det_10g.onnx"), CATALOG["det_10g"]).detect(
        group_photo
    )
    assert len(ours) == len(ref_boxes) > 10
    boxes = np.array(
        [[f.box.left, f.box.top, f.box.right, f.box.bottom, f.box.score] for f in ours]
    )
    np.testing.assert_allclose(boxes, ref_boxes, atol=1e-3)
    np.testing.assert_allclose(np.stack([f.kps for f in ours]), ref_kps, atol=1e-3)


@pytest.mark.parametrize("size", [112, 128])
def test_aligned_crops_match_insightface(size: int) -> None:
    from insightface.utils import face_align

    image = sample_photo("astronaut")
    kps = five_points(image)
    ref_crop, ref_matrix = face_align.norm_crop2(image, kps, size)
    matrix = align.estimate_norm(kps, size, "arcface_128")
    np.testing.assert_allclose(matrix, ref_matrix, atol=1e-4)
    ours = align.crop(image, matrix, size)
    assert np.abs(ours.astype(int) - ref_crop.astype(int)).max() <= 1


def test_similarity_matches_umeyama_svd() -> None:
    """The closed 2-D form equals scikit-image's Umeyama (SVD) fit, reflected point sets and
    degenerate ones included."""
    from skimage.transform import SimilarityTransform

    rng = np.random.default_rng(7)
    for index in range(300):
        src = rng.normal(size=(5, 2)) * 60.0
        dst = src @ np.array([[0.8, -0.5], [0.5, 0.8]]) + rng.normal(size=(5, 2)) * 3 + 40
        if index % 3 == 0:
            dst = dst * np.array([1.0, -1.0])  # a mirror image: the best rotation still
        if index % 5 == 0:
            dst = rng.normal(size=(5, 2)) * 60.0  # unrelated points
        reference = SimilarityTransform()  # type: ignore[no-untyped-call]
        assert reference.estimate(src, dst)
        np.testing.assert_allclose(align.similarity(src, dst), reference.params[:2], atol=1e-9)
    same = np.ones((5, 2))
    np.testing.assert_allclose(
        align.similarity(same, same + 3.0), [[1.0, 0.0, 3.0], [0.0, 1.0, 3.0]]
    )


def test_latent_matches_insightface(model_dir: Path) -> None:
    from insightface.model_zoo.inswapper import INSwapper as Reference

    path = model_dir / "inswapper_128.onnx"
    reference = Reference(str(path), session=session(path))
    ours = InSwapper(session(path), CATALOG["inswapper_128"], read_emap(path))
    embedding = np.random.default_rng(3).normal(size=512).astype(np.float32)
    embedding /= np.linalg.norm(embedding)
    expected = embedding.reshape(1, -1) @ reference.emap
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(ours.latent(embedding), expected, atol=1e-4)


def test_embedding_is_unit_length_and_uses_the_arcface_crop(model_dir: Path) -> None:
    image = sample_photo("astronaut")
    embedder = ArcFaceEmbedder(session(model_dir / "w600k_r50.onnx"), CATALOG["w600k_r50"])
    vector = embedder.embed(image, five_points(image))
    assert vector.shape == (512,) and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


class FixedDetector:
    """Returns the real keypoints of the photo's face (the generated SCRFD's boxes are noise)."""

    def __init__(self, kps: np.ndarray[Any, Any]) -> None:
        self.kps = kps

    def resize(self, size: int | None) -> None:
        return None

    def detect(self, image: BgrImage) -> list[DetectedFace]:
        x0, y0 = self.kps.min(axis=0) - 40
        x1, y1 = self.kps.max(axis=0) + 40
        return [DetectedFace(FaceBox(float(x0), float(y0), float(x1), float(y1), 0.9), self.kps)]


def processor_for(
    model_dir: Path, swapper_file: str, image: BgrImage, **options: Any
) -> NeuralSwapProcessor:
    kps = five_points(image)
    path = model_dir / swapper_file

    def load() -> NeuralModels:
        return NeuralModels(
            FixedDetector(kps),
            ArcFaceEmbedder(session(model_dir / "w600k_r50.onnx"), CATALOG["w600k_r50"]),
            InSwapper(session(path), CATALOG["inswapper_128"], read_emap(path)),
            GfpganEnhancer(session(model_dir / "GFPGANv1.4.onnx"), CATALOG["gfpgan_1.4"]),
        )

    face = sample_photo_path("grace_hopper")
    processor = NeuralSwapProcessor(
        load, lambda _n: face, RuntimeState(Toggles(enhancer=True)), NeuralOptions(**options)
    )
    processor.start()
    return processor


def test_identity_model_leaves_the_frame_nearly_unchanged(model_dir: Path) -> None:
    # At 256 px the face is about as large as the 128 crop, so the crop loses no detail; what is
    # left is two bilinear resamplings (crop, then paste back), worst at sharp edges.
    image = cv2.resize(sample_photo("astronaut"), (256, 256), interpolation=cv2.INTER_AREA)
    processor = processor_for(model_dir, "inswapper_128.onnx", image, color_correction=False)
    out = processor.process(Frame(image, 1, 0.0))
    assert out.swapped
    diff = np.abs(out.image.astype(int) - image.astype(int))
    assert diff.mean() < 0.5
    box = paste_box(align.estimate_norm(five_points(image), 128, "arcface_128"), 128, 256, 256)
    assert box is not None
    face = diff[box[1] : box[3], box[0] : box[2]]
    assert np.median(face) <= 1 and np.percentile(face, 95) <= 8


def test_paste_back_touches_only_the_face_box(model_dir: Path) -> None:
    image = sample_photo("astronaut")
    processor = processor_for(model_dir, "inswapper_invert.onnx", image)
    out = processor.process(Frame(image, 1, 0.0)).image
    changed = np.any(out != image, axis=2)
    kps = five_points(image)
    matrix = align.estimate_norm(kps, 128, "arcface_128")
    box = paste_box(matrix, 128, image.shape[1], image.shape[0])
    assert box is not None
    x0, y0, x1, y1 = box
    ys, xs = np.nonzero(changed)
    assert len(xs) > 1000, "the inverting model visibly changes the face"
    gx0, gy0, gx1, gy1 = (
        paste_box(
            GfpganEnhancer(session(model_dir / "GFPGANv1.4.onnx"), CATALOG["gfpgan_1.4"]).matrix(
                kps
            ),
            512,
            image.shape[1],
            image.shape[0],
        )
        or box
    )
    assert xs.min() >= min(x0, gx0) and xs.max() < max(x1, gx1)
    assert ys.min() >= min(y0, gy0) and ys.max() < max(y1, gy1)


def test_batched_and_single_swappers_agree(model_dir: Path) -> None:
    image = sample_photo("astronaut")
    kps = five_points(image)
    crops = [
        align.crop(image, align.estimate_norm(kps + d, 128, "arcface_128"), 128)
        for d in (0.0, 5.0, -7.0)
    ]
    latent = np.ones((1, 512), np.float32) / np.sqrt(512)
    single = InSwapper(
        session(model_dir / "inswapper_128.onnx"),
        CATALOG["inswapper_128"],
        read_emap(model_dir / "inswapper_128.onnx"),
    ).swap(crops, latent)
    batched = InSwapper(
        session(model_dir / "inswapper_batch.onnx"),
        CATALOG["inswapper_128"],
        read_emap(model_dir / "inswapper_batch.onnx"),
    ).swap(crops, latent)
    for a, b, c in zip(single, batched, crops, strict=True):
        assert np.array_equal(a, b)
        assert np.abs(a.astype(int) - c.astype(int)).max() <= 1


def test_io_binding_path_gives_the_same_result(model_dir: Path) -> None:
    from vcamswap.inference.session import BoundRunner

    image = sample_photo("astronaut")
    kps = five_points(image)
    crops = [
        align.crop(image, align.estimate_norm(kps + d, 128, "arcface_128"), 128) for d in (0.0, 3.0)
    ]
    latent = np.ones((1, 512), np.float32) / np.sqrt(512)
    path = model_dir / "inswapper_invert.onnx"
    plain = InSwapper(session(path), CATALOG["inswapper_128"], read_emap(path)).swap(crops, latent)
    for like in (None, 0):  # output found by a first run, or allocated like the input
        sess = session(path)
        bound = InSwapper(
            sess,
            CATALOG["inswapper_128"],
            read_emap(path),
            bound=BoundRunner(sess, "cpu", output_like_input=like),
        )
        for _ in range(2):  # second call reuses the preallocated buffers
            result = bound.swap(crops, latent)
            for a, b in zip(plain, result, strict=True):
                assert np.array_equal(a, b)


def test_each_target_face_gets_the_most_similar_source(model_dir: Path) -> None:
    from vcamswap.processors.neural import assign_sources

    rng = np.random.default_rng(5)
    sources = rng.normal(size=(3, 512)).astype(np.float32)
    sources /= np.linalg.norm(sources, axis=1, keepdims=True)
    targets = sources[[2, 0]] + rng.normal(scale=0.05, size=(2, 512)).astype(np.float32)
    targets /= np.linalg.norm(targets, axis=1, keepdims=True)
    assert assign_sources(targets, sources) == [2, 0]
    assert assign_sources(targets, sources[:1]) == [0, 0]


def test_mapped_sources_reach_the_swapper_per_face(model_dir: Path) -> None:
    astronaut, hopper = sample_photo("astronaut"), sample_photo("grace_hopper")
    hopper = cv2.resize(hopper, (astronaut.shape[1], astronaut.shape[0]))
    frame = np.hstack([astronaut, hopper])
    shift = np.array([astronaut.shape[1], 0], np.float32)
    kps_a, kps_h = five_points(astronaut), five_points(hopper) + shift
    path = model_dir / "inswapper_128.onnx"
    swapper = InSwapper(session(path), CATALOG["inswapper_128"], read_emap(path))
    seen: list[np.ndarray[Any, Any]] = []
    original = swapper.swap

    def spy(crops: list[BgrImage], latent: Any) -> list[BgrImage]:
        seen.append(np.asarray(latent).reshape(-1, 512))
        return original(crops, latent)

    swapper.swap = spy  # type: ignore[method-assign]

    class Both:
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
                        0.9,
                    ),
                    k,
                )
                for k in (kps_h, kps_a)
            ]

    embedder = ArcFaceEmbedder(session(model_dir / "w600k_r50.onnx"), CATALOG["w600k_r50"])
    faces = {
        "astronaut": sample_photo_path("astronaut"),
        "hopper": sample_photo_path("grace_hopper"),
    }
    processor = NeuralSwapProcessor(
        lambda: NeuralModels(Both(), embedder, swapper),
        lambda n: faces[n or "hopper"],
        RuntimeState(),
        NeuralOptions(many_faces=True, sources=("astronaut", "hopper")),
    )
    processor.start()
    # The source photos' own crops, so each target's nearest source is its own photo.
    src_a = embedder.embed(astronaut, kps_a)
    src_h = embedder.embed(hopper, five_points(hopper))
    processor._faces.get = lambda name: {  # type: ignore[union-attr, method-assign]
        "astronaut": type("S", (), {"embedding": src_a, "latent": swapper.latent(src_a)})(),
        "hopper": type("S", (), {"embedding": src_h, "latent": swapper.latent(src_h)})(),
        None: type("S", (), {"embedding": src_h, "latent": swapper.latent(src_h)})(),
    }[name]
    processor.process(Frame(frame, 1, 0.0))
    latents = seen[-1]
    np.testing.assert_allclose(latents[0], swapper.latent(src_h)[0], atol=1e-5)
    np.testing.assert_allclose(latents[1], swapper.latent(src_a)[0], atol=1e-5)


class SwitchableDetector(FixedDetector):
    """FixedDetector that can lose the face, and records which thread detects."""

    def __init__(self, kps: np.ndarray[Any, Any]) -> None:
        super().__init__(kps)
        self.present = True
        self.threads: set[str] = set()

    def detect(self, image: BgrImage) -> list[DetectedFace]:
        import threading

        self.threads.add(threading.current_thread().name)
        return super().detect(image) if self.present else []


def test_async_detection_swaps_like_inline_and_reports_a_lost_face(model_dir: Path) -> None:
    """swap.neural_detect_async: SCRFD runs on a side thread; the first frame waits for its
    faces once, later frames use the newest finished detection; a face that leaves raises
    FaceLostError (the privacy guard's signal) as inline detection does."""
    import time

    from vcamswap.errors import FaceLostError

    image = sample_photo("astronaut")
    inline = processor_for(model_dir, "inswapper_invert.onnx", image)
    expected = inline.process(Frame(image, 1, 0.0)).image
    detector = SwitchableDetector(five_points(image))
    path = model_dir / "inswapper_invert.onnx"

    def load() -> NeuralModels:
        return NeuralModels(
            detector,
            ArcFaceEmbedder(session(model_dir / "w600k_r50.onnx"), CATALOG["w600k_r50"]),
            InSwapper(session(path), CATALOG["inswapper_128"], read_emap(path)),
            GfpganEnhancer(session(model_dir / "GFPGANv1.4.onnx"), CATALOG["gfpgan_1.4"]),
        )

    face = sample_photo_path("grace_hopper")
    processor = NeuralSwapProcessor(
        load,
        lambda _n: face,
        RuntimeState(Toggles(enhancer=True)),
        NeuralOptions(detect_async=True),
    )
    processor.start()
    try:
        for seq in range(1, 6):
            out = processor.process(Frame(image, seq, 0.0))
            assert out.swapped and np.array_equal(out.image, expected), seq
            time.sleep(0.02)
        assert "vcamswap-detect" in detector.threads
        detector.present = False
        lost = False
        for seq in range(6, 40):
            try:
                processor.process(Frame(image, seq, 0.0))
            except FaceLostError:
                lost = True
                break
            time.sleep(0.02)
        assert lost, "the side thread's empty detection reaches the frame path"
    finally:
        processor.close()
