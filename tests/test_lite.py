"""Lite engine quality, measured with dlib's own identity descriptor and landmarks, on public
domain portraits that ship inside scikit-image and matplotlib."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from vcamswap.errors import FaceError, FaceLostError
from vcamswap.inference.landmarks import DlibLandmarker
from vcamswap.processors import mesh
from vcamswap.processors.faces import folder_resolver
from vcamswap.processors.lite import LiteSwapProcessor
from vcamswap.processors.lite_options import LiteOptions
from vcamswap.processors.lite_source import build_source_mesh, lite_face_cache
from vcamswap.runtime import RuntimeState
from vcamswap.samples import animate, sample_photo, sample_photo_path
from vcamswap.types import BgrImage, Frame, Points


@pytest.fixture(scope="module")
def landmarker() -> DlibLandmarker:
    lm = DlibLandmarker()
    lm.load()
    return lm


@pytest.fixture(scope="module")
def target_clip() -> list[BgrImage]:
    photo = sample_photo("astronaut")
    return [animate(photo, i, 60, (640, 480)) for i in range(60)]


def make_processor(landmarker: DlibLandmarker, **options: object) -> LiteSwapProcessor:
    face = sample_photo_path("grace_hopper")
    cache = lite_face_cache(landmarker, lambda _name: face)
    options.setdefault("detect_async", False)
    processor = LiteSwapProcessor(landmarker, cache, RuntimeState(), LiteOptions(**options))  # type: ignore[arg-type]
    processor.start()
    return processor


def face_points(landmarker: DlibLandmarker, image: BgrImage) -> Points | None:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    boxes = sorted(landmarker.detect(gray, upsample=1), key=lambda b: b.score)
    return landmarker.landmarks(gray, boxes[-1]) if boxes else None


def swapped_clip(landmarker: DlibLandmarker, clip: list[BgrImage]) -> Iterator[Frame]:
    processor = make_processor(landmarker)
    for index, image in enumerate(clip):
        yield processor.process(Frame(image, index, 0.0))


def test_swapped_face_is_closer_to_the_source_than_to_the_target(
    landmarker: DlibLandmarker, target_clip: list[BgrImage]
) -> None:
    source = sample_photo("grace_hopper")
    source_pts = face_points(landmarker, source)
    assert source_pts is not None
    source_id = landmarker.descriptor(source, source_pts)
    outputs = list(swapped_clip(landmarker, target_clip))
    checked = 0
    for index in range(0, 60, 12):
        out = outputs[index]
        assert out.swapped
        out_pts = face_points(landmarker, out.image)
        target_pts = face_points(landmarker, target_clip[index])
        assert out_pts is not None and target_pts is not None
        out_id = landmarker.descriptor(out.image, out_pts)
        target_id = landmarker.descriptor(target_clip[index], target_pts)
        to_source = float(np.linalg.norm(out_id - source_id))
        to_target = float(np.linalg.norm(out_id - target_id))
        assert to_source < to_target, f"frame {index}: {to_source:.3f} vs {to_target:.3f}"
        checked += 1
    assert checked == 5


def test_output_landmarks_follow_the_target(
    landmarker: DlibLandmarker, target_clip: list[BgrImage]
) -> None:
    outputs = list(swapped_clip(landmarker, target_clip))
    for index in range(5, 60, 11):
        target_pts = face_points(landmarker, target_clip[index])
        out_pts = face_points(landmarker, outputs[index].image)
        assert target_pts is not None and out_pts is not None
        iod = mesh.inter_ocular(target_pts)
        # Pose-defining points: jaw line, nose, eye corners, mouth corners.
        keys = [0, 4, 8, 12, 16, 30, 36, 39, 42, 45, 48, 54]
        error = np.linalg.norm(out_pts[keys] - target_pts[keys], axis=1).mean() / iod
        assert error < 0.08, f"frame {index}: landmarks moved {error:.1%} of inter-ocular"


def test_pixels_far_from_the_face_are_untouched(
    landmarker: DlibLandmarker, target_clip: list[BgrImage]
) -> None:
    processor = make_processor(landmarker)
    image = target_clip[0]
    out = processor.process(Frame(image, 0, 0.0)).image
    changed = np.any(out != image, axis=2)
    ys, xs = np.nonzero(changed)
    points = face_points(landmarker, image)
    assert points is not None
    # the face's mesh, and the ring around it inside which the face's shape is moved towards
    # the source's (swap.shape_transfer): nothing outside changes
    from vcamswap.processors.lite_shape import ring

    box = np.vstack([mesh.with_forehead(points), ring(mesh.with_forehead(points))])
    assert xs.min() >= box[:, 0].min() - 2 and xs.max() <= box[:, 0].max() + 2
    assert ys.min() >= box[:, 1].min() - 2 and ys.max() <= box[:, 1].max() + 2
    assert not np.shares_memory(out, image)
    plain = make_processor(landmarker, shape_transfer=0.0)
    changed = np.any(plain.process(Frame(image, 0, 0.0)).image != image, axis=2)
    ys, xs = np.nonzero(changed)
    box = mesh.with_forehead(points)
    assert xs.min() >= box[:, 0].min() - 2 and xs.max() <= box[:, 0].max() + 2
    assert ys.min() >= box[:, 1].min() - 2 and ys.max() <= box[:, 1].max() + 2


def test_hard_frames_do_not_raise(landmarker: DlibLandmarker, target_clip: list[BgrImage]) -> None:
    processor = make_processor(landmarker, detect_every=1)
    base = target_clip[0]
    h, w = base.shape[:2]
    edge = np.zeros_like(base)
    edge[:, : w - 230] = base[:, 230:]  # face cut by the left edge
    tiny = np.zeros_like(base)
    tiny[200:248, 300:364] = cv2.resize(base, (64, 48))
    squeeze = cv2.getPerspectiveTransform(
        np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32),
        np.array([[0, 0], [w * 0.45, h * 0.2], [w * 0.45, h * 0.8], [0, h]], dtype=np.float32),
    )
    profile_like = cv2.warpPerspective(base, squeeze, (w, h))
    blank = np.zeros_like(base)
    noise = np.random.default_rng(0).integers(0, 255, base.shape, dtype=np.uint8)
    for index, image in enumerate([edge, tiny, profile_like, blank, noise, base, blank]):
        try:
            out = processor.process(Frame(image, index, 0.0))
        except FaceLostError:
            continue  # the privacy guard's signal (a tracked face gone), not a failure
        assert out.image.shape == image.shape
    with contextlib.suppress(FaceLostError):  # the face before is gone: the guard's frame
        assert not processor.process(Frame(blank, 99, 0.0)).swapped


def test_many_faces_swaps_each(landmarker: DlibLandmarker, target_clip: list[BgrImage]) -> None:
    two = np.hstack([target_clip[0], target_clip[30]])
    single = make_processor(landmarker, detect_max_side=1280).process(Frame(two, 0, 0.0)).image
    many = (
        make_processor(landmarker, many_faces=True, detect_max_side=1280)
        .process(Frame(two, 0, 0.0))
        .image
    )
    left_changed = np.any(many[:, :640] != two[:, :640])
    right_changed = np.any(many[:, 640:] != two[:, 640:])
    assert left_changed and right_changed
    assert np.any(single[:, :640] != two[:, :640]) != np.any(single[:, 640:] != two[:, 640:])


def test_source_without_a_face_is_a_clear_error(landmarker: DlibLandmarker) -> None:
    with pytest.raises(FaceError, match=r"no face found in blank\.png"):
        build_source_mesh(landmarker, np.zeros((200, 200, 3), np.uint8), "blank.png")


def test_face_names_resolve_in_the_faces_folder(tmp_path: Path) -> None:
    resolve = folder_resolver(tmp_path)
    with pytest.raises(FaceError, match="no source face"):
        resolve(None)
    (tmp_path / "alice.png").write_bytes(b"x")
    assert resolve(None) == tmp_path / "alice.png"
    assert resolve("alice") == tmp_path / "alice.png"
    with pytest.raises(FaceError, match="no face named 'bob'"):
        resolve("bob")


def test_unreadable_face_image_is_a_clear_error(tmp_path: Path, landmarker: DlibLandmarker) -> None:
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8 not really a jpeg")
    cache = lite_face_cache(landmarker, lambda _n: path)
    with pytest.raises(FaceError, match="not a readable image"):
        cache.get(None)


def test_background_detection_finds_the_face_without_blocking_frames(
    landmarker: DlibLandmarker, target_clip: list[BgrImage]
) -> None:
    processor = make_processor(landmarker, detect_async=True)
    try:
        results = []
        for index in range(40):
            results.append(processor.process(Frame(target_clip[index], index, 0.0)).swapped)
            if not results[-1]:
                import time

                time.sleep(0.01)  # the camera's frame interval, roughly
        assert not results[0], "the first frame passes while the detector works"
        # Once found, the face is tracked: a frame whose landmarks fail the plausibility check
        # goes to the privacy guard (by design), which on a busy machine happens to a frame or
        # two of this small face.
        assert sum(results[-20:]) >= 18, results
    finally:
        processor.close()


def test_warp_maps_match_a_per_triangle_reference() -> None:
    """The table-lookup warp gives every pixel exactly the affine of the triangle it lies in,
    as filling and evaluating one triangle at a time does; -1 outside the mesh."""
    from vcamswap.processors import mesh

    rng = np.random.default_rng(3)
    image = sample_photo("astronaut")
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    checker = DlibLandmarker()
    src = mesh.with_forehead(checker.landmarks(gray, checker.detect(gray, 1)[0]).astype(np.float32))
    triangles = mesh.triangulate(src)
    for scale, shift in ((1.0, (0, 0)), (1.7, (300.3, 80.6)), (0.6, (-20.0, 10.0))):
        dst = (src * scale + np.array(shift, np.float32)).astype(np.float32)
        dst += rng.normal(0, 1.5, dst.shape).astype(np.float32)
        got = mesh.warp_maps(src, dst, triangles, (640, 480))
        assert got is not None
        h, w = got.inside.shape
        index = np.full((h, w), -1, np.int32)
        offset = np.array([got.left, got.top], np.float32)
        want_x, want_y = np.full((h, w), -1.0, np.float32), np.full((h, w), -1.0, np.float32)
        for i, tri in enumerate(triangles):
            corners = dst[tri] - offset
            cv2.fillConvexPoly(index, np.round(corners).astype(np.int32), i)
        for i, tri in enumerate(triangles):
            affine = cv2.getAffineTransform((dst[tri] - offset).astype(np.float32), src[tri])
            ys, xs = np.nonzero(index == i)
            want_x[ys, xs] = affine[0, 0] * xs + affine[0, 1] * ys + affine[0, 2]
            want_y[ys, xs] = affine[1, 0] * xs + affine[1, 1] * ys + affine[1, 2]
        assert np.array_equal(got.inside, index >= 0)
        assert np.abs(got.map_x - want_x).max() < 0.01 and np.abs(got.map_y - want_y).max() < 0.01
