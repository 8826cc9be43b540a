"""Shape transfer (swap.shape_transfer): the target's face moves towards the source's
proportions with its expression kept, the camera's pixels follow inside a ring and nowhere
else, and the swap's identity (judged by dlib's own descriptor) moves towards the source."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from tests.helpers.faces import descriptor_of
from vcamswap.inference.align import similarity
from vcamswap.inference.landmarks import DlibLandmarker
from vcamswap.processors import lite_shape, mesh
from vcamswap.samples import sample_photo
from vcamswap.types import Frame, Points

LANDMARKER = DlibLandmarker()


def landmarks(image: np.ndarray[Any, Any]) -> Points:
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    box = max(LANDMARKER.detect(gray, 1), key=lambda b: b.area)
    return LANDMARKER.landmarks(gray, box)


def test_morph_moves_the_shape_and_keeps_the_expression() -> None:
    target = landmarks(sample_photo("astronaut"))
    source = mesh.with_forehead(landmarks(sample_photo("grace_hopper")) * 1.7 + 40)
    assert np.array_equal(lite_shape.morph_points(target, source, 0.0), target)
    half = lite_shape.morph_points(target, source, 0.5)
    full = lite_shape.morph_points(target, source, 1.0)
    matrix = similarity(source[:68], target)
    fitted = source[:68] @ matrix[:, :2].T + matrix[:, 2]
    # the jaw goes half way, then all the way, to the source's (fitted onto the target)
    np.testing.assert_allclose(half[mesh.JAW], (target[mesh.JAW] + fitted[mesh.JAW]) / 2, atol=1e-3)
    np.testing.assert_allclose(full[mesh.JAW], fitted[mesh.JAW], atol=1e-3)
    # eyes and mouth move and scale as a whole: their shape (open, closed, a smile) stays
    for part in (mesh.LEFT_EYE, slice(48, 68)):
        t, m = target[part], full[part]
        scale = np.linalg.norm(m - m.mean(0)) / np.linalg.norm(t - t.mean(0))
        np.testing.assert_allclose(m - m.mean(0), (t - t.mean(0)) * scale, atol=1e-3)


def test_reshape_moves_pixels_only_inside_the_ring() -> None:
    frame = sample_photo("astronaut")
    target = landmarks(frame)
    source = mesh.with_forehead(landmarks(sample_photo("grace_hopper")))
    morphed = lite_shape.morph_points(target, source, 0.7)
    size = (frame.shape[1], frame.shape[0])
    moved = lite_shape.reshape(size, target, morphed, lite_shape.ring_triangles(source))
    assert moved is not None
    assert moved.fits(target + 0.2, morphed) and not moved.fits(target + 0.5, morphed)
    out = frame.copy()
    image = moved.apply(frame)
    h, w = image.shape[:2]
    out[moved.top : moved.top + h, moved.left : moved.left + w] = image
    changed = np.any(out != frame, axis=2)
    ring = lite_shape.ring(mesh.with_forehead(target))
    inside = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, np.round(ring).astype(np.int32), 1)
    inside = cv2.dilate(inside, np.ones((5, 5), np.uint8))
    assert changed.sum() > 1000 and not (changed & (inside == 0)).any()
    # a face turned past the limit is not reshaped
    assert lite_shape.strength_for(target, 0.7) > 0.3
    turned = target.copy()
    turned[mesh.NOSE_TIP] = target[0] * 0.9 + target[16] * 0.1
    assert lite_shape.strength_for(turned, 0.7) == 0.0


def test_shape_transfer_moves_the_identity_towards_the_source() -> None:
    """Face 3 of insightface's group photo as the source on face 2 (both package photos):
    dlib's descriptor of the swap is nearer the source with the shape moved than with the
    texture alone, and the swap is still nearer the source than the target."""
    from tests.helpers.faces import crop_face
    from tests.helpers.models import load_group_photo

    group = load_group_photo()
    source, target = crop_face(group, 3), crop_face(group, 2)
    src_id, tgt_id = descriptor_of(source), descriptor_of(target)
    assert src_id is not None and tgt_id is not None

    def swapped(strength: float) -> float:
        import tempfile
        from pathlib import Path

        from vcamswap.processors.lite import LiteSwapProcessor
        from vcamswap.processors.lite_options import LiteOptions
        from vcamswap.processors.lite_source import lite_face_cache
        from vcamswap.runtime import RuntimeState

        path = Path(tempfile.mkdtemp()) / "source.png"
        cv2.imwrite(str(path), source)
        processor = LiteSwapProcessor(
            LANDMARKER,
            lite_face_cache(LANDMARKER, lambda _n: path),
            RuntimeState(),
            LiteOptions(detect_async=False, shape_transfer=strength),
        )
        processor.start()
        out = processor.process(Frame(target, 1, 0.0))
        assert out.swapped
        found = descriptor_of(out.image)
        assert found is not None
        assert np.linalg.norm(found - src_id) < np.linalg.norm(found - tgt_id)
        return float(np.linalg.norm(found - src_id))

    assert swapped(0.7) < swapped(0.0) - 0.03
