"""The content check: the real packaged model on public-domain package photos, equivalence with
the nudenet package's own detector, and every policy path with a scripted classifier. No
explicit image is used or stored anywhere: "flagged" comes from the scripted classifier."""

from __future__ import annotations

import itertools
import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.fakes import CardRenderer, PixelSink, ScriptedSource, passthrough_supervisor, wait_for
from vcamswap.daemon.builders import CONTENT_CARD, content_gate
from vcamswap.daemon.controls import DaemonControls
from vcamswap.pipeline.status import percentile
from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
from vcamswap.processors.base import PassthroughProcessor
from vcamswap.safety.content import (
    ContentFlaggedError,
    ContentVerdict,
    LiveContentMonitor,
    NudeNetClassifier,
    nudenet_classifier,
    screen,
    screened_resolver,
)
from vcamswap.samples import sample_photo_path
from vcamswap.types import BgrImage


def package_photos() -> dict[str, Path]:
    import insightface

    t1 = Path(insightface.__file__).parent / "data" / "images" / "t1.jpg"
    return {
        "astronaut": sample_photo_path("astronaut"),
        "grace_hopper": sample_photo_path("grace_hopper"),
        "t1": t1,
    }


@pytest.fixture(scope="module")
def packaged() -> NudeNetClassifier:
    return nudenet_classifier()


class ScriptedClassifier:
    """Flags an image whose mean brightness is above ``bright`` (or everything when
    ``always``); counts calls and can be slowed down."""

    def __init__(self, bright: float = 250.0, delay_s: float = 0.0) -> None:
        self.bright = bright
        self.delay_s = delay_s
        self.calls = 0
        self.flag_all = threading.Event()

    def classify(self, image: BgrImage) -> ContentVerdict:
        self.calls += 1
        time.sleep(self.delay_s)
        flagged = self.flag_all.is_set() or float(image.mean()) > self.bright
        return ContentVerdict(
            flagged, (("FEMALE_BREAST_EXPOSED", 0.9),) if flagged else (("FACE_FEMALE", 0.8),)
        )


def test_the_real_model_finds_the_package_photos_clean(packaged: NudeNetClassifier) -> None:
    for name, path in package_photos().items():
        verdict = packaged.classify(cv2.imread(str(path)))
        assert not verdict.flagged, f"{name}: {verdict.describe()}"
        assert verdict.labels and verdict.labels[0][0].startswith("FACE_"), name


def test_our_processing_matches_the_packages_own_detector() -> None:
    """Same boxes (within 1 px: we decode in float64, the package in float32 then truncate)
    and scores (within 1e-4) as nudenet's NudeDetector.detect, with its BGR channel order."""
    import onnxruntime as ort
    from nudenet import NudeDetector

    from vcamswap.inference.content import NudeNetDetector, packaged_model

    reference = NudeDetector()
    session = ort.InferenceSession(str(packaged_model()), providers=["CPUExecutionProvider"])
    ours = NudeNetDetector(session, channel_order="bgr")
    for name, path in package_photos().items():
        image = cv2.imread(str(path))
        expected = sorted(reference.detect(image), key=lambda d: -d["score"])
        got = sorted(ours.detect(image), key=lambda d: -d.score)
        assert len(got) == len(expected) >= 1, name
        for mine, theirs in zip(got, expected, strict=True):
            assert mine.label == theirs["class"], name
            assert abs(mine.score - theirs["score"]) < 1e-4, name
            assert np.abs(np.array(mine.box) - np.array(theirs["box"])).max() <= 1, name


def test_a_refused_face_is_never_stored_or_loaded(tmp_path: Path) -> None:
    from vcamswap.facelib.library import FaceLibrary

    classifier = ScriptedClassifier()
    classifier.flag_all.set()
    library = FaceLibrary(tmp_path / "faces", content=classifier)
    with pytest.raises(ContentFlaggedError, match="refused by the content check"):
        library.add(sample_photo_path("grace_hopper"), "grace")
    assert not (tmp_path / "faces").exists() or not any((tmp_path / "faces").rglob("*.*"))
    # --face PATH and faces chosen later go through the same screened resolver.
    resolve = screened_resolver(lambda _name: sample_photo_path("astronaut"), classifier)
    with pytest.raises(ContentFlaggedError, match="source face"):
        resolve("/some/photo.png")
    classifier.flag_all.clear()
    assert resolve(None) == sample_photo_path("astronaut")
    calls = classifier.calls
    resolve(None)
    assert classifier.calls == calls, "a clean file version is checked once"


def test_offline_image_input_refused_leaves_no_output(tmp_path: Path) -> None:
    from vcamswap.offline.image import swap_image
    from vcamswap.pipeline.protocols import PassthroughPolicy

    classifier = ScriptedClassifier()
    classifier.flag_all.set()
    out = tmp_path / "out.png"
    with pytest.raises(ContentFlaggedError, match="the input"):
        swap_image(
            PassthroughProcessor(),
            PassthroughPolicy(),
            sample_photo_path("astronaut"),
            out,
            classifier,
        )
    assert list(tmp_path.iterdir()) == []


def test_offline_video_hit_mid_file_stops_the_job_and_leaves_nothing(tmp_path: Path) -> None:
    from tests.test_offline import make_clip
    from vcamswap.offline.video import VideoJob
    from vcamswap.pipeline.protocols import PassthroughPolicy
    from vcamswap.types import Frame

    class Swapped(PassthroughProcessor):
        def process(self, frame: Frame) -> Frame:
            return frame.with_image(frame.image, swapped=True)

    clip = make_clip(tmp_path / "in.mp4")
    classifier = ScriptedClassifier()
    seen: list[int] = []

    original = classifier.classify

    def classify(image: BgrImage) -> ContentVerdict:
        seen.append(classifier.calls)
        if classifier.calls == 1:  # the second sample (about one second in) is flagged
            classifier.flag_all.set()
        return original(image)

    classifier.classify = classify  # type: ignore[method-assign]
    out = tmp_path / "out.mp4"
    with pytest.raises(ContentFlaggedError, match="at frame"):
        VideoJob(Swapped(), PassthroughPolicy(), clip, out, content=classifier).run()
    assert len(seen) == 2, "the first frame, then one about a second later"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"], "no output, no partial"


def test_live_hit_pauses_the_swap_until_the_user_re_enables_it() -> None:
    source = ScriptedSource(fps=30.0)
    sink = PixelSink()
    supervisor = Supervisor(
        source,
        PassthroughProcessor(),
        sink,
        CardRenderer(),
        options=PipelineOptions(default_size=(64, 48)),
    )
    classifier = ScriptedClassifier()
    supervisor.start()
    LiveContentMonitor(
        classifier,
        supervisor.last_input,
        content_gate(supervisor, "pause"),
        supervisor.stop_event,
        interval_s=0.1,
    ).start()
    controls = DaemonControls(supervisor, lambda n: Path("x"), list, None, "lite")
    try:
        assert wait_for(lambda: classifier.calls >= 2, 2.0)
        assert supervisor.health.blocked is None
        classifier.flag_all.set()
        assert wait_for(lambda: supervisor.health.blocked == CONTENT_CARD, 2.0)
        assert not supervisor.state.get().swap_enabled
        assert wait_for(lambda: sink.snapshot()[-3:] == [200, 200, 200], 2.0), "the card shows"
        status = controls.status()
        assert status["state"] == "paused" and status["blocked"] == CONTENT_CARD
        classifier.flag_all.clear()
        time.sleep(0.4)
        assert supervisor.health.blocked == CONTENT_CARD, "'pause' waits for the user"
        controls.set_swap_enabled(True)
        assert supervisor.health.blocked is None
        assert wait_for(lambda: sink.snapshot()[-1] not in (200, 201), 2.0), "frames again"
    finally:
        supervisor.stop()


def test_live_blank_action_lifts_itself_when_the_camera_is_clean() -> None:
    supervisor = passthrough_supervisor()
    classifier = ScriptedClassifier()
    supervisor.start()
    LiveContentMonitor(
        classifier,
        supervisor.last_input,
        content_gate(supervisor, "blank"),
        supervisor.stop_event,
        interval_s=0.1,
    ).start()
    try:
        classifier.flag_all.set()
        assert wait_for(lambda: supervisor.health.blocked == CONTENT_CARD, 2.0)
        assert supervisor.state.get().swap_enabled, "'blank' keeps the swap on"
        classifier.flag_all.clear()
        assert wait_for(lambda: supervisor.health.blocked is None, 2.0)
    finally:
        supervisor.stop()


def frame_intervals_ms(monitor: bool, seconds: float = 3.0) -> list[float]:
    supervisor = Supervisor(
        ScriptedSource(fps=30.0, width=640, height=480),
        PassthroughProcessor(),
        PixelSink(),
        CardRenderer(),
        options=PipelineOptions(default_size=(640, 480)),
    )
    supervisor.start()
    if monitor:  # a slow check (80 ms) every 0.2 s: ten times the default load
        LiveContentMonitor(
            ScriptedClassifier(delay_s=0.08),
            supervisor.last_input,
            lambda verdict: None,
            supervisor.stop_event,
            0.2,
        ).start()
    time.sleep(seconds)
    supervisor.stop()
    times = supervisor.stats.tick_times("out")[5:]
    return [(b - a) * 1000.0 for a, b in itertools.pairwise(times)]


def test_the_live_check_leaves_the_output_cadence_unchanged() -> None:
    off, on = frame_intervals_ms(False), frame_intervals_ms(True)
    assert abs(percentile(on, 50) - percentile(off, 50)) < 3.0
    assert percentile(on, 95) < 50.0, f"p95 {percentile(on, 95):.1f} ms at 30 fps"


def test_screen_without_a_classifier_checks_nothing() -> None:
    screen(None, np.zeros((4, 4, 3), np.uint8), "x")


def test_content_check_cli_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from vcamswap.cli.main import main
    from vcamswap.safety import content

    monkeypatch.setenv("VCAMSWAP_HOME", str(tmp_path / "home"))
    bright = tmp_path / "bright.png"
    cv2.imwrite(str(bright), np.full((64, 64, 3), 255, np.uint8))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really")
    clean = sample_photo_path("astronaut")
    # The real packaged model on real files: clean, unreadable, unsupported.
    assert main(["content-check", str(clean)]) == 0
    assert main(["content-check", str(clean), str(broken)]) == 2
    assert main(["content-check", str(tmp_path / "notes.txt")]) == 2
    capsys.readouterr()
    # Flagged: the scripted classifier flags the white image (no explicit image anywhere).
    monkeypatch.setattr(
        content, "nudenet_classifier", lambda *a, **k: ScriptedClassifier(bright=250.0)
    )
    assert main(["content-check", "--json", str(clean), str(bright), str(broken)]) == 3
    report = json.loads(capsys.readouterr().out)
    verdicts = {Path(f["file"]).name: f["verdict"] for f in report["files"]}
    assert verdicts == {clean.name: "clean", "bright.png": "flagged", "broken.jpg": "error"}
