"""Safety: consent record, visible label, privacy guard (with a proof on a real clip)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from vcamswap.config import load_config
from vcamswap.config.render import render_default_yaml
from vcamswap.devices.imaging import TextCardRenderer
from vcamswap.inference.landmarks import DlibLandmarker, GrayImage
from vcamswap.pipeline.guarding import guarded_process
from vcamswap.processors.label import LabelStyle, SyntheticLabelProcessor
from vcamswap.processors.lite import LiteSwapProcessor
from vcamswap.processors.lite_options import LiteOptions
from vcamswap.processors.lite_source import lite_face_cache
from vcamswap.runtime import RuntimeState
from vcamswap.safety.consent import ConsentRequiredError, ensure_consent
from vcamswap.safety.guard import PrivacyGuard
from vcamswap.samples import animate, sample_photo, sample_photo_path
from vcamswap.types import BgrImage, FaceBox, Frame, Points


def test_non_interactive_run_without_consent_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConsentRequiredError) as info:
        ensure_consent(False, tmp_path / "c.yaml", flag=False, interactive=False)
    assert "--accept-consent" in str(info.value) and "consent of every person" in str(info.value)
    assert not (tmp_path / "c.yaml").exists()


def test_flag_records_acceptance_and_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(render_default_yaml().replace("  fps: 30.0\n", "  fps: 24.0  # mine\n", 1))
    assert ensure_consent(False, path, flag=True)
    text = path.read_text()
    assert "fps: 24.0  # mine" in text and "# Draw the badge." in text
    assert load_config(path).safety.consent_accepted
    assert not ensure_consent(True, path, flag=False, interactive=False)


def test_interactive_prompt_accepts_or_declines(tmp_path: Path) -> None:
    shown: list[str] = []
    path = tmp_path / "c.yaml"
    assert ensure_consent(
        False, path, flag=False, interactive=True, ask=lambda _q: "yes", show=shown.append
    )
    assert "consent" in shown[0] and load_config(path).safety.consent_accepted
    with pytest.raises(ConsentRequiredError, match="declined"):
        ensure_consent(
            False,
            tmp_path / "d.yaml",
            flag=False,
            interactive=True,
            ask=lambda _q: "no",
            show=shown.append,
        )


def test_label_is_drawn_on_every_frame_it_gets_without_touching_the_camera_frame() -> None:
    """The label is a finisher: the pipeline hands it every frame while the swap is on
    (swapped or guarded), so the badge is steady. A camera frame it labels is copied first."""
    label = SyntheticLabelProcessor(LabelStyle())
    image = np.full((720, 1280, 3), 128, np.uint8)
    camera = image.copy()
    plain = label.process(Frame(camera, 0, 0.0))
    assert np.array_equal(camera, image)  # not written into
    assert not np.array_equal(plain.image, image)
    marked = label.process(Frame(image.copy(), 1, 0.0, swapped=True)).image
    changed = np.argwhere(np.any(marked != image, axis=2))
    assert changed.size and changed[:, 0].min() > 600 and changed[:, 1].min() > 1000
    frames = [Frame(image.copy(), i, 0.0, swapped=True) for i in range(200)]
    start = time.perf_counter()
    for frame in frames:
        label.process(frame)
    per_frame_ms = (time.perf_counter() - start) / len(frames) * 1000
    assert per_frame_ms < 1.0  # a smoke bound; the measured cost is in BENCHMARKS.md


class FlakyLandmarker(DlibLandmarker):
    """Real dlib, except that on chosen frames detection finds nothing and tracking fails."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = False

    def detect(self, gray: GrayImage, upsample: int = 0) -> list[FaceBox]:
        return [] if self.fail else super().detect(gray, upsample)

    def landmarks(self, gray: GrayImage, box: FaceBox) -> Points:
        points = super().landmarks(gray, box)
        return points * 0.2 if self.fail else points  # collapses: tracking rejects it


def run_guarded(policy: Any, clip: list[BgrImage], failing: set[int]) -> list[Frame]:
    landmarker = FlakyLandmarker()
    face = sample_photo_path("grace_hopper")
    processor = LiteSwapProcessor(
        landmarker,
        lite_face_cache(landmarker, lambda _n: face),
        RuntimeState(),
        LiteOptions(detect_async=False, detect_every=1),
    )
    processor.start()
    guard = PrivacyGuard(policy, TextCardRenderer().render)
    outputs = []
    for index, image in enumerate(clip):
        landmarker.fail = index in failing
        # The pipeline's own path, live and offline: a lost face or a frame the engine did not
        # swap goes through the guard.
        outputs.append(guarded_process(processor, guard, Frame(image, index, 0.0)))
    return outputs


@pytest.fixture(scope="module")
def clip() -> list[BgrImage]:
    photo = sample_photo("astronaut")
    return [animate(photo, i, 24, (640, 480)) for i in range(24)]


def unswapped_frames(outputs: list[Frame]) -> list[int]:
    """Indexes of output frames in which a detector finds the target's own face (a face closer
    to the target's identity than to the source's)."""
    checker = DlibLandmarker()
    target = sample_photo("astronaut")
    gray_t = cv2.cvtColor(target, cv2.COLOR_BGR2GRAY)
    target_id = checker.descriptor(target, checker.landmarks(gray_t, checker.detect(gray_t, 1)[0]))
    source = sample_photo("grace_hopper")
    gray_s = cv2.cvtColor(source, cv2.COLOR_BGR2GRAY)
    source_id = checker.descriptor(source, checker.landmarks(gray_s, checker.detect(gray_s, 1)[0]))
    shown_unswapped = []
    for index, frame in enumerate(outputs):
        gray = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY)
        for box in checker.detect(gray, 1):
            if box.score < 0.3:
                continue
            identity = checker.descriptor(frame.image, checker.landmarks(gray, box))
            if np.linalg.norm(identity - target_id) < np.linalg.norm(identity - source_id):
                shown_unswapped.append(index)
    return shown_unswapped


@pytest.mark.parametrize("policy", ["blur", "freeze", "placeholder"])
def test_privacy_guard_never_shows_an_unswapped_face(policy: str, clip: list[BgrImage]) -> None:
    failing = {5, 6, 7, 8, 14, 15, 16}
    outputs = run_guarded(policy, clip, failing)
    assert unswapped_frames(outputs) == [], f"{policy}: the target's own face is visible"
    assert sum(1 for f in outputs if f.swapped) >= len(clip) - len(failing) - 2


def test_passthrough_shows_the_camera_frame_when_the_face_is_lost(clip: list[BgrImage]) -> None:
    outputs = run_guarded("passthrough", clip, {5, 6})
    assert np.array_equal(outputs[5].image, clip[5])
    assert 5 in unswapped_frames(outputs), "the check above does see an unswapped face"
