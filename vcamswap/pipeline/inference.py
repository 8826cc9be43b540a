"""The inference loop: the newest captured frame through the processor and the privacy guard."""

from __future__ import annotations

import logging
import threading
import time

from vcamswap.errors import DegradedError, EngineNotRunningError, FaceLostError, VCamSwapError
from vcamswap.log import RateLimitedLog
from vcamswap.pipeline.governor import QualityGovernor
from vcamswap.pipeline.guarding import finish, guarded_process
from vcamswap.pipeline.protocols import (
    FailurePolicy,
    FrameProcessor,
    QualityControlled,
    RemoteWaiting,
)
from vcamswap.pipeline.slot import LatestSlot
from vcamswap.pipeline.state import Health
from vcamswap.pipeline.status import PipelineStats
from vcamswap.pipeline.workers import POLL_S, Pending
from vcamswap.runtime import RuntimeState
from vcamswap.types import Frame

log = logging.getLogger(__name__)


class InferenceWorker:
    """Takes the newest captured frame, runs the processor, puts the result in the output slot.
    Whatever fails (no face, a lost face, an exception, a processor that did not start) goes
    through the failure policy; the output keeps flowing. With ``backpressure`` no result
    replaces one the output has not taken yet (offline, demo, bench)."""

    def __init__(  # noqa: PLR0913 - injected deps
        self,
        processor: FrameProcessor,
        policy: FailurePolicy,
        in_slot: LatestSlot[Frame],
        out_slot: LatestSlot[Frame],
        state: RuntimeState,
        health: Health,
        stats: PipelineStats,
        stop: threading.Event,
        *,
        backpressure: bool = False,
        governor: QualityGovernor | None = None,
    ) -> None:
        self._backpressure = backpressure
        self._out_version = 0
        self._governor = governor
        self._processor = processor
        self._policy = policy
        self._in = in_slot
        self._out = out_slot
        self._state = state
        self._health = health
        self._stats = stats
        self._stop = stop
        self._errors = RateLimitedLog(log)
        self._pending = Pending[FrameProcessor]()
        self._pending_policy = Pending[FailurePolicy]()
        self._not_running: EngineNotRunningError | None = None
        self._waited = 0.0

    def replace(self, processor: FrameProcessor) -> None:
        """Switch processors between two frames (started and closed on this worker's thread)."""
        self._pending.set(processor)

    def replace_policy(self, policy: FailurePolicy) -> None:
        """Switch the privacy guard between two frames (swap.on_face_lost changed)."""
        self._pending_policy.set(policy)

    def _switch(self) -> None:
        policy = self._pending_policy.take()
        if policy is not None:
            self._policy = policy
        replacement = self._pending.take()
        if replacement is None:
            return
        if self._not_running is None:
            self._processor.close()
        self._processor = replacement
        self._start_processor()

    def _start_processor(self) -> None:
        try:
            self._processor.start()
        except Exception as exc:
            reason = f"the face processor failed to start: {exc}"
            self._not_running = EngineNotRunningError(reason)
            self._health.engine(reason)
            self._errors.log(
                logging.ERROR,
                "start",
                "%s; frames go through the privacy guard until `vcamswap ctl reload` starts it",
                reason,
                exc_info=not isinstance(exc, VCamSwapError),
            )
            return
        if self._not_running is not None:
            log.info("the face processor is running again")
        self._not_running = None
        self._health.engine(None)
        self._adopt_ladder()

    @property
    def engine_failed(self) -> str | None:
        """Why the processor is not running, or None."""
        return None if self._not_running is None else str(self._not_running)

    def _adopt_ladder(self) -> None:
        if self._governor is None:
            return
        processor = self._processor
        if isinstance(processor, QualityControlled):
            self._governor.set_levels(processor.quality_levels())
        else:
            self._governor.set_levels(("full quality",))

    def _remote_ms(self) -> float:
        """Milliseconds of the last frame spent waiting on a remote model server."""
        if not isinstance(self._processor, RemoteWaiting):
            return 0.0
        total = self._processor.remote_wait_s()
        delta, self._waited = max(0.0, total - self._waited), total
        return delta * 1000.0

    def _govern(self, cost_ms: float) -> None:
        """One sample for the governor; a new level goes to the processor on this thread."""
        if self._governor is None:
            return
        level = self._governor.observe(
            time.monotonic(), cost_ms, self._stats.rate("in"), self._remote_ms()
        )
        if level is not None and isinstance(self._processor, QualityControlled):
            view = self._governor.view()
            log.info("quality level %d (%s): %s", level, view.name, view.reason)
            self._processor.set_quality(level)

    def run(self) -> None:
        self._start_processor()
        try:
            self._loop()
        finally:
            if self._not_running is None:
                self._processor.close()

    def _take(self, version: int) -> tuple[int, Frame] | None:
        got = self._in.get_newer(version, POLL_S)
        if got is not None and version and got[0] > version + 1:
            self._stats.add_dropped(got[0] - version - 1)
        return got

    def _loop(self) -> None:
        version = 0
        while not self._stop.is_set():
            self._switch()
            got = self._take(version)
            if got is None:
                continue
            version, frame = got
            started = time.perf_counter()
            if self._state.get().swap_enabled:
                result = self._one(frame)
                cost_ms = (time.perf_counter() - started) * 1000.0
                if self._not_running is None:
                    self._govern(cost_ms)
            else:
                result = frame
                cost_ms = (time.perf_counter() - started) * 1000.0
            self._stats.record_stage("total", cost_ms)
            self._put(result)

    def _one(self, frame: Frame) -> Frame:
        """One frame with the swap on: processed, or guarded with the reason it was not."""
        if self._not_running is not None:
            result = finish(self._processor, self._policy.on_failure(frame, self._not_running))
        else:
            try:
                result = guarded_process(self._processor, self._policy, frame, self._lost)
            except Exception as exc:
                self._stats.add_error()
                self._health.failing(f"processing failed: {exc}")
                # A user-facing error (no face photo yet, a bad model file) is one clear
                # line; anything else carries its traceback.
                self._errors.log(
                    logging.ERROR,
                    type(exc).__name__,
                    "processing a frame failed: %s",
                    exc,
                    exc_info=not isinstance(exc, VCamSwapError),
                )
                result = finish(self._processor, self._policy.on_failure(frame, exc))
            else:
                self._health.failing(None)
                if result.swapped and self._health.degraded:
                    self._health.degrade(None)
                    log.info("the swap runs normally again")
        if result.swapped:
            self._stats.add_swapped(len(result.regions) or 1)
        if result.guarded is not None:
            self._stats.add_guarded()
        return result

    def _lost(self, exc: FaceLostError) -> None:
        if isinstance(exc, DegradedError):
            if self._health.degraded is None:
                log.warning("swap degraded: %s", exc)
            self._health.degrade(str(exc))

    def _put(self, frame: Frame) -> None:
        if self._backpressure:
            # Back-pressure waits for the previous result, not this one: nothing is dropped
            # either way, but waiting for the output thread to wake up and take each result
            # put two thread hand-offs on every frame's path.
            while not self._out.wait_taken(self._out_version, POLL_S) and not self._stop.is_set():
                pass
        self._out_version = self._out.put(frame)
        self._stats.tick("processed")
