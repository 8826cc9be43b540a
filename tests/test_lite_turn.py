"""Turned heads in the lite engine: a three-quarter view is swapped and stays swapped, its far
cheek (where the flat mesh folds) left to the camera; a head turned on to a profile fades to the
privacy guard over a few frames and comes back when it turns back. Judged with the judge's own
dlib detector and identity descriptor, on the turned face of insightface's group photo."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers.faces import crop_face, descriptor_of, package_file
from vcamswap.inference.landmarks import DlibLandmarker, GrayImage
from vcamswap.processors import mesh
from vcamswap.processors.lite import LiteSwapProcessor
from vcamswap.processors.lite_options import LiteOptions
from vcamswap.processors.lite_source import lite_face_cache
from vcamswap.runtime import RuntimeState
from vcamswap.samples import sample_photo, sample_photo_path
from vcamswap.types import BgrImage, FaceBox, Frame, Points


@pytest.fixture(scope="module")
def turned() -> BgrImage:
    """Face 4 of the group photo: a man looking off to the image's left, about a
    three-quarter view (dlib's nose-to-jaw yaw about -0.9; the far cheek hidden by the nose)."""
    image = cv2.imread(str(package_file("insightface", "data/images/t1.jpg")))
    assert image is not None
    return crop_face(image, 4)


class Turning(DlibLandmarker):
    """A head turning from ``image``'s three-quarter view on towards a profile while
    ``profile`` is set: the shape predictor's points for the still frame (found once, so the
    test follows the fade and not the tracker), squeezed towards the nose on the far side, where
    the predictor puts the far eye, brow and jaw of a head turned further."""

    def __init__(self, image: BgrImage) -> None:
        super().__init__()
        self.profile = False
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        self.load()
        self._still: Points = super().landmarks(gray, self.detect(gray, 1)[0])

    def for_thread(self) -> DlibLandmarker:
        return self

    def landmarks(self, gray: GrayImage, box: FaceBox) -> Points:
        still: Points = self._still.copy()
        if not self.profile:
            return still
        nose = float(self._still[mesh.NOSE_TIP][0])
        squeezed = still
        far = squeezed[:, 0] < nose
        squeezed[far, 0] = nose + 0.3 * (squeezed[far, 0] - nose)
        return squeezed


def processor(landmarker: DlibLandmarker, source: Path) -> LiteSwapProcessor:
    swap = LiteSwapProcessor(
        landmarker,
        lite_face_cache(landmarker, lambda _name: source),
        RuntimeState(),
        LiteOptions(detect_async=False),
    )
    swap.start()
    return swap


def test_a_three_quarter_view_is_swapped_and_stays_swapped(turned: BgrImage) -> None:
    """Every frame of a held three-quarter view goes out swapped (the swap does not fade away
    after the first frames), nearer the source person than the target by the judge's
    descriptor, and the folded far side keeps the camera's pixels next to the nose."""
    source = sample_photo("astronaut")
    swap = processor(DlibLandmarker(), sample_photo_path("astronaut"))
    outs = [swap.process(Frame(turned, i, i / 30.0)) for i in range(8)]
    assert all(out.swapped for out in outs)
    last = outs[-1].image
    mine, theirs, src = (descriptor_of(x) for x in (last, turned, source))
    assert mine is not None and theirs is not None and src is not None
    assert np.linalg.norm(mine - src) < np.linalg.norm(mine - theirs)
    # The mesh's folded triangles (the far cheek behind the nose) are not pasted.
    judge = DlibLandmarker()
    gray = cv2.cvtColor(turned, cv2.COLOR_BGR2GRAY)
    points = mesh.with_forehead(judge.landmarks(gray, judge.detect(gray, 1)[0]))
    photo_gray = cv2.cvtColor(source, cv2.COLOR_BGR2GRAY)
    src_points = mesh.with_forehead(judge.landmarks(photo_gray, judge.detect(photo_gray, 1)[0]))
    triangles = mesh.triangulate(src_points)
    folded = mesh.fold_weights(src_points, points, triangles) == 0.0
    assert folded.any(), "the test photo no longer folds the mesh"
    assert 0.6 < mesh.coverage(src_points, points, triangles) < 0.9
    mask = np.zeros(gray.shape, np.uint8)
    for tri in triangles[folded]:
        cv2.fillConvexPoly(mask, np.round(points[tri]).astype(np.int32), 1)
    mask = cv2.erode(mask, np.ones((5, 5), np.uint8))
    changed = np.abs(last.astype(np.int16) - turned.astype(np.int16)).max(axis=2)
    swapped_face = changed[
        int(points[:, 1].min()) : int(points[:, 1].max()),
        int(points[:, 0].min()) : int(points[:, 0].max()),
    ]
    face_share = float(np.mean(swapped_face > 12))
    folded_share = float(np.mean(changed[mask > 0] > 12))
    assert face_share > 0.3, "the face itself was not swapped"
    assert folded_share < 0.1, "the folded far cheek was pasted over"


def test_a_head_turned_to_a_profile_fades_to_the_guard_and_back(turned: BgrImage) -> None:
    """Turning on from the three-quarter view to a profile: the first frames still show the
    swap, fading; from the third, the frames go to the privacy guard (unswapped, not an
    error) until the head turns back, when the swap fades back in."""
    landmarker = Turning(turned)
    swap = processor(landmarker, sample_photo_path("astronaut"))
    changed: list[int] = []
    swapped: list[bool] = []
    for i in range(16):
        landmarker.profile = 4 <= i < 10
        out = swap.process(Frame(turned, i, i / 30.0))
        swapped.append(out.swapped)
        diff = np.abs(out.image.astype(np.int16) - turned.astype(np.int16)).max(axis=2)
        changed.append(int(np.count_nonzero(diff > 24)))
    assert all(swapped[:4]) and all(swapped[13:]), swapped
    assert swapped[4] and changed[4] < changed[3], (swapped, changed)  # fading, not cut
    assert not any(swapped[6:10]), swapped


def test_fold_weights_keep_whole_triangles_and_hide_squeezed_and_flipped_ones() -> None:
    """Two triangles sharing an edge: scaled and moved whole they show in full; the second
    squeezed to a sliver is hidden, and flipped over the shared edge it is hidden too."""
    src = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], np.float32)
    triangles = np.array([[0, 1, 2], [1, 3, 2]], np.int32)
    moved = src * 2.0 + 5.0
    assert mesh.fold_weights(src, moved, triangles).tolist() == [1.0, 1.0]
    assert mesh.coverage(src, moved, triangles) == 1.0
    squeezed = src.copy()
    squeezed[3] = (5.5, 4.5)  # the second triangle nearly flat against the shared edge
    weights = mesh.fold_weights(src, squeezed, triangles)
    assert weights[0] > 0.9 and weights[1] == 0.0
    flipped = src.copy()
    flipped[3] = (2, 2)  # across the shared edge: the mesh folds over
    assert mesh.area_ratios(src, flipped, triangles)[1] < 0
    assert mesh.fold_weights(src, flipped, triangles)[1] == 0.0
    assert 0.3 < mesh.coverage(src, flipped, triangles) < 0.8
