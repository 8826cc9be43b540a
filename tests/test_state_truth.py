"""Status tells the truth: a processor that fails on every frame or never started is "error"
with its reason (not "running"), its frames go through the privacy guard, and the error clears
when the cause is gone."""

from __future__ import annotations

from tests.fakes import CardRenderer, FnProcessor, PixelSink, ScriptedSource, solid, wait_for
from vcamswap.errors import FaceError, ModelError
from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
from vcamswap.safety.guard import PrivacyGuard
from vcamswap.types import Frame


class Switchable(FnProcessor):
    """Fails every frame (or at start) until ``fixed``; then swaps (a white frame)."""

    def __init__(self, fail_start: bool = False) -> None:
        super().__init__(self._run)
        self.fixed = False
        self.fail_start = fail_start

    def start(self) -> None:
        if self.fail_start and not self.fixed:
            raise ModelError("inswapper_128.onnx is corrupt: delete it and fetch it again")

    def _run(self, frame: Frame) -> Frame:
        if not self.fixed:
            raise FaceError("no source face: put a photo in the faces folder")
        return frame.with_image(solid(250), swapped=True)


def make(processor: FnProcessor, sink: PixelSink) -> Supervisor:
    return Supervisor(
        ScriptedSource(fps=60.0),
        processor,
        sink,
        CardRenderer(),
        policy=PrivacyGuard("placeholder", lambda _r, w, h: solid(77, w, h)),
        options=PipelineOptions(output_fps=30.0, default_size=(64, 48)),
    )


def test_every_frame_failing_is_an_error_that_clears_when_fixed() -> None:
    processor, sink = Switchable(), PixelSink()
    supervisor = make(processor, sink)
    supervisor.start()
    try:
        assert wait_for(lambda: supervisor.status().state == "error", 3.0)
        status = supervisor.status()
        assert "no source face" in (status.last_error or "")
        assert status.guarded_frames > 0 and status.swapped_frames == 0
        assert set(sink.snapshot()[-5:]) == {77}  # the guard's card, never the camera
        processor.fixed = True
        assert wait_for(lambda: supervisor.status().state == "running", 3.0)
        assert supervisor.status().last_error is None
        assert wait_for(lambda: 250 in sink.snapshot()[-3:], 3.0)
    finally:
        supervisor.stop()


def test_an_engine_that_did_not_start_is_an_error_guarded_and_retried_on_replace() -> None:
    processor, sink = Switchable(fail_start=True), PixelSink()
    supervisor = make(processor, sink)
    supervisor.start()
    try:
        assert wait_for(lambda: supervisor.status().state == "error", 3.0)
        assert "corrupt" in (supervisor.engine_failed or "")
        assert "corrupt" in (supervisor.status().last_error or "")
        assert wait_for(lambda: len(sink.snapshot()) > 5, 3.0)
        assert set(sink.snapshot()[-5:]) == {77}
        replacement = Switchable()
        replacement.fixed = True
        supervisor.replace_processor(replacement)  # what `ctl reload` does
        assert wait_for(lambda: supervisor.status().state == "running", 3.0)
        assert supervisor.engine_failed is None and supervisor.status().last_error is None
    finally:
        supervisor.stop()
