"""Supervisor: starts the three workers in order, stops them within a second, reports Status."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from vcamswap.pipeline.governor import Mode, QualityGovernor
from vcamswap.pipeline.inference import InferenceWorker
from vcamswap.pipeline.protocols import (
    FailurePolicy,
    FrameProcessor,
    FrameSink,
    FrameSource,
    PassthroughPolicy,
    PlaceholderRenderer,
)
from vcamswap.pipeline.slot import LatestSlot
from vcamswap.pipeline.state import Health
from vcamswap.pipeline.status import PipelineStats, State, Status
from vcamswap.pipeline.workers import Backoff, CaptureWorker, OutputWorker
from vcamswap.runtime import RuntimeState
from vcamswap.types import BgrImage, Frame

log = logging.getLogger(__name__)


OUTPUT_THREAD = "vcamswap-output"
INFERENCE_THREAD = "vcamswap-infer"
CLOSING_THREADS = (OUTPUT_THREAD, INFERENCE_THREAD)
"""Threads that close something on their way out (the sink; the processor, whose side-thread
detector may be inside dlib): ``stop`` gives them ``flush_timeout_s``. A process that exits
while dlib's C++ code runs on a thread aborts ('terminate called without an active
exception')."""


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    """How the pipeline runs; built from Config by the app, or by tests and bench directly."""

    output_fps: float = 30.0
    default_size: tuple[int, int] = (1280, 720)
    paced: bool = True
    lockstep: bool = False
    """Files, demo, throughput bench: every frame is processed and written once, in order (each
    stage waits for the next to take its frame; no resends); the run stops after ``max_frames``."""
    max_frames: int | None = None
    governor: Mode = "off"
    """'auto' steps quality down to hold the camera's fps (live runs); 'pinned' holds
    ``governor_level``; 'off' stays at full quality (files, demo and throughput benchmarks)."""
    governor_level: int = 0
    governor_window_s: float = 2.0
    backoff: Backoff = field(default_factory=Backoff)
    join_timeout_s: float = 0.3
    flush_timeout_s: float = 10.0
    """How long ``stop`` waits for the output thread to close the sink (a recording writes its
    trailer there, longer than 0.3 s on a loaded machine, and a caller renames or reads the
    file next) and for the inference thread to close the processor."""


class Supervisor:
    """Owns the slots, the stop event and the three threads.

    Start order: output (the virtual device exists before frames do), inference (sessions load
    on its own thread), capture. Stop order: capture, inference, output; each worker closes its
    own resource in ``finally``, so nothing is closed from a foreign thread.
    """

    def __init__(
        self,
        source: FrameSource,
        processor: FrameProcessor,
        sink: FrameSink,
        placeholder: PlaceholderRenderer,
        *,
        state: RuntimeState | None = None,
        policy: FailurePolicy | None = None,
        options: PipelineOptions | None = None,
        stats: PipelineStats | None = None,
    ) -> None:
        self.options = options or PipelineOptions()
        self.state = state or RuntimeState()
        self.health = Health()
        self.stats = stats or PipelineStats()
        self.stop_event = threading.Event()
        self._in: LatestSlot[Frame] = LatestSlot()
        self._out: LatestSlot[Frame] = LatestSlot()
        self._source = source
        self._sink = sink
        self.processor = processor
        opts = self.options
        self.governor = QualityGovernor(
            window_s=opts.governor_window_s,
            mode="off" if opts.lockstep else opts.governor,
            pin=opts.governor_level,
        )
        self._capture = CaptureWorker(
            source,
            self._in,
            self.state,
            self.health,
            self.stats,
            self.stop_event,
            paced=opts.paced,
            backpressure=opts.lockstep,
            backoff=opts.backoff,
            max_frames=opts.max_frames,
        )
        self._infer = InferenceWorker(
            processor,
            policy or PassthroughPolicy(),
            self._in,
            self._out,
            self.state,
            self.health,
            self.stats,
            self.stop_event,
            backpressure=opts.lockstep,
            governor=self.governor,
        )
        self._output = OutputWorker(
            sink,
            self._out,
            placeholder,
            self.health,
            self.stats,
            self.stop_event,
            fps=opts.output_fps,
            default_size=opts.default_size,
            backoff=opts.backoff,
            resend=not opts.lockstep,
            max_frames=opts.max_frames,
        )
        self._threads: list[threading.Thread] = []
        self._started = False

    def start(self) -> None:
        if self._started:
            raise RuntimeError("the pipeline was already started")
        self._started = True
        for name, target in (
            (OUTPUT_THREAD, self._output.run),
            (INFERENCE_THREAD, self._infer.run),
            ("vcamswap-capture", self._capture.run),
        ):
            thread = threading.Thread(target=self._guard(name, target), name=name, daemon=True)
            self._threads.append(thread)
            thread.start()

    def _guard(self, name: str, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except Exception:
                log.exception("%s crashed; stopping the pipeline", name)
                self.health.error(f"{name} crashed")
                self.stop_event.set()

        return run

    def stop(self) -> None:
        """Stop and join capture, inference, output in that order. Idempotent."""
        self.stop_event.set()
        self._in.close()
        self._out.close()
        for thread in reversed(self._threads):
            limit = self.options.join_timeout_s
            if thread.name in CLOSING_THREADS:
                limit = self.options.flush_timeout_s
            thread.join(limit)
            if thread.is_alive():
                log.warning("%s did not stop within %.1f s", thread.name, limit)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until stopped (or ``timeout``); True when stopped."""
        return self.stop_event.wait(timeout)

    @property
    def alive(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def _state(self) -> State:
        if not self._started:
            return "starting"
        if self.stop_event.is_set():
            return "stopped"
        camera = self.health.camera_state
        if camera == "paused" or self.health.blocked:
            return "paused"
        if self.health.error_reason is not None and self.state.get().swap_enabled:
            return "error"
        if (
            camera == "lost"
            or not self.health.sink_ok
            or self.health.placeholder_reason()
            or self.health.degraded
            or self.governor.view().remote_bound
        ):
            return "degraded"
        if camera == "starting":
            return "starting"
        return "running"

    def replace_source(self, source: FrameSource) -> None:
        """Hot reload: the capture worker switches to ``source`` (camera settings changed)."""
        self._source = source
        self._capture.replace(source)

    def replace_processor(self, processor: FrameProcessor) -> None:
        """Hot reload: the inference worker switches between two frames."""
        self.processor = processor
        self._infer.replace(processor)

    def replace_policy(self, policy: FailurePolicy) -> None:
        """Hot reload: the privacy guard changes between two frames."""
        self._infer.replace_policy(policy)

    @property
    def engine_failed(self) -> str | None:
        """Why the face processor is not running (a reload retries it), or None."""
        return self._infer.engine_failed

    def replace_sink(self, sink: FrameSink) -> None:
        """Hot reload: the output worker switches to ``sink`` (output settings changed)."""
        self._sink = sink
        self._output.replace(sink)

    @property
    def sink(self) -> FrameSink:
        return self._sink

    def last_input(self) -> BgrImage | None:
        """The newest captured frame, without taking it from the pipeline (content check)."""
        return self._capture.last

    def last_output(self) -> BgrImage | None:
        """The image most recently sent to the sink (for the preview), or None."""
        return self._output.sent

    def status(self) -> Status:
        state = self._state()
        error = (
            self.health.error_reason
            if state == "error"
            else self.governor.view().remote_bound or self.health.last_error
        )
        status = self.stats.snapshot(state, self._source.description, self._sink.description, error)
        return replace(status, governor=self.governor.view().to_dict())

    def run_for(self, seconds: float) -> Status:
        """Start, run ``seconds`` (or until stopped), stop; for tests and benchmarks."""
        self.start()
        deadline = time.monotonic() + seconds
        while not self.stop_event.wait(min(0.1, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                break
        status = self.status()
        self.stop()
        return status
