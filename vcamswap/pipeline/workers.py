"""The three loops. Each owns its resource, opens and closes it on its own thread, and waits
only on the stop event or a slot, with timeouts of at most 100 ms."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

from vcamswap.i18n import N_
from vcamswap.pipeline.clock import FrameClock
from vcamswap.pipeline.protocols import (
    FrameSink,
    FrameSource,
    PlaceholderRenderer,
)
from vcamswap.pipeline.slot import LatestSlot
from vcamswap.pipeline.state import Health
from vcamswap.pipeline.status import PipelineStats
from vcamswap.runtime import RuntimeState
from vcamswap.types import BgrImage, Frame, validate_bgr

log = logging.getLogger(__name__)
POLL_S = 0.1
PAUSED_RESEND_S = 0.5
T = TypeVar("T")


class Pending(Generic[T]):
    """A replacement handed to a worker by another thread, taken by the worker itself."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: T | None = None

    def set(self, item: T) -> None:
        with self._lock:
            self._item = item

    @property
    def waiting(self) -> bool:
        with self._lock:
            return self._item is not None

    def take(self) -> T | None:
        with self._lock:
            item, self._item = self._item, None
            return item


@dataclass(frozen=True, slots=True)
class Backoff:
    """Retry delays for a lost device: first ``initial``, doubling up to ``maximum``."""

    initial: float = 1.0
    maximum: float = 30.0

    def next(self, current: float | None) -> float:
        return self.initial if current is None else min(self.maximum, current * 2)


class CaptureWorker:
    """Reads the source and puts frames in the input slot. The camera sets the pace; a file or
    pattern is paced at its nominal fps unless ``paced`` is False (benchmarks), and with
    ``backpressure`` each frame waits until the inference thread took it (no drops)."""

    def __init__(  # noqa: PLR0913 - injected deps
        self,
        source: FrameSource,
        slot: LatestSlot[Frame],
        state: RuntimeState,
        health: Health,
        stats: PipelineStats,
        stop: threading.Event,
        *,
        paced: bool = True,
        backpressure: bool = False,
        backoff: Backoff = Backoff(),
        max_frames: int | None = None,
    ) -> None:
        self._source = source
        self._slot = slot
        self._state = state
        self._health = health
        self._stats = stats
        self._stop = stop
        self._paced = paced
        self._backpressure = backpressure
        self._backoff = backoff
        self._max_frames = max_frames
        self._seq = 0
        self._pending = Pending[FrameSource]()
        self.last: BgrImage | None = None  # read by the content check; a reference, no copy

    def replace(self, source: FrameSource) -> None:
        """Switch to ``source``: the worker closes the old one and opens this one itself."""
        self._pending.set(source)

    def run(self) -> None:
        delay: float | None = None
        while not self._stop.is_set():
            replacement = self._pending.take()
            if replacement is not None:
                self._source = replacement
                delay = None
            if self._state.get().paused:
                self._health.camera("paused")
                self._state.changed.clear()
                self._state.changed.wait(POLL_S)
                continue
            try:
                self._source.open()
            except Exception as exc:
                delay = self._backoff.next(delay)
                message = f"cannot open {self._source.description}: {exc}"
                self._health.camera("lost", message)
                log.warning("%s; retrying in %.0f s", message, delay)
                self._stop.wait(delay)
                continue
            log.info("capturing from %s", self._source.description)
            try:
                lost = self._stream()
            finally:
                self._source.close()
                self.last = None
            if lost:
                delay = self._backoff.next(None)
                self._stop.wait(delay)
            else:
                delay = None

    def _stream(self) -> bool:
        """Read until stopped or paused (False) or the source fails (True)."""
        clock = None
        if self._paced and not self._source.paced_by_device:
            clock = FrameClock(self._source.nominal_fps, self._stop)
        while not self._stop.is_set() and not self._state.get().paused:
            if self._pending.waiting:
                return False
            try:
                image = self._source.read()
                if image is None:
                    raise ConnectionError("it stopped delivering frames")
                image = validate_bgr(image, self._source.description)
            except Exception as exc:
                message = f"lost {self._source.description}: {exc}"
                self._health.camera("lost", message)
                log.warning("%s; reopening", message)
                return True
            now = time.monotonic()
            self._seq += 1
            self.last = image
            version = self._slot.put(Frame(image=image, seq=self._seq, captured_at=now))
            self._health.frame_captured(now)
            self._stats.tick("in", now)
            if self._max_frames is not None and self._seq >= self._max_frames:
                self._stop.wait()  # the output worker stops the run after the last frame
                return False
            if self._backpressure:
                while not self._slot.wait_taken(version, POLL_S):
                    if self._stop.is_set():
                        return False
            if clock is not None and not clock.wait():
                return False
        return False


class OutputWorker:
    """Sends each processed frame as soon as it is ready. When nothing new arrives within about
    one frame interval it sends the last frame again, or a placeholder card when the camera is
    lost or paused, so video apps never lose the device. With ``resend`` off (files) only new
    frames are written, and after ``max_frames`` of them the run stops."""

    # Resend only after 1.2 intervals: camera jitter of a few ms must not cause double frames.
    RESEND_FACTOR = 1.2

    def __init__(  # noqa: PLR0913 - injected deps
        self,
        sink: FrameSink,
        slot: LatestSlot[Frame],
        placeholder: PlaceholderRenderer,
        health: Health,
        stats: PipelineStats,
        stop: threading.Event,
        *,
        fps: float,
        default_size: tuple[int, int],
        backoff: Backoff = Backoff(),
        resend: bool = True,
        max_frames: int | None = None,
    ) -> None:
        self._resend = resend
        self._max_frames = max_frames
        self._sent_new = 0
        self._pending = Pending[FrameSink]()
        self._sink = sink
        self._slot = slot
        self._placeholder = placeholder
        self._health = health
        self._stats = stats
        self._stop = stop
        self._interval = 1.0 / fps
        self._size = default_size
        self._backoff = backoff
        self._last: BgrImage | None = None
        self.sent: BgrImage | None = None  # read by the preview; a reference, never copied here
        self._card: tuple[str, tuple[int, int], BgrImage] | None = None

    def replace(self, sink: FrameSink) -> None:
        """Switch outputs: the worker closes the old sink and opens this one itself."""
        self._pending.set(sink)

    def run(self) -> None:
        delay: float | None = None
        while not self._stop.is_set():
            replacement = self._pending.take()
            if replacement is not None:
                self._sink = replacement
                delay = None
            try:
                self._sink.open()
            except Exception as exc:
                delay = self._backoff.next(delay)
                message = f"cannot open {self._sink.description}: {exc}"
                self._health.sink(False, message)
                log.error("%s; retrying in %.0f s", message, delay)
                self._stop.wait(delay)
                continue
            self._health.sink(True)
            delay = None
            try:
                self._stream()
            finally:
                self._sink.close()

    def _card_image(self, reason: str) -> BgrImage:
        if self._last is not None:
            self._size = (self._last.shape[1], self._last.shape[0])
        if self._card is None or self._card[0] != reason or self._card[1] != self._size:
            self._card = (reason, self._size, self._placeholder.render(reason, *self._size))
        return self._card[2]

    def _stream(self) -> None:
        version = 0
        last_sent = time.monotonic()
        while not self._stop.is_set() and not self._pending.waiting:
            # Paused: a slow placeholder keeps apps attached at almost no cost. The wait and the
            # resend check must use the same interval, or the loop spins with zero timeouts.
            paused = self._health.placeholder_reason() == "Paused"
            interval = PAUSED_RESEND_S if paused else self._interval * self.RESEND_FACTOR
            wait = (
                POLL_S
                if not self._resend
                else min(POLL_S, max(0.0, last_sent + interval - time.monotonic()))
            )
            got = self._slot.get_newer(version, wait)
            now = time.monotonic()
            if got is not None:
                version, frame = got
                image = frame.image
                self._last = image
                reason = self._health.placeholder_reason(now)
                captured_at: float | None = frame.captured_at
            else:
                reason = self._health.placeholder_reason(now)
                if not self._resend or now - last_sent < interval:
                    continue
                captured_at = None
                if reason is not None or self._last is None:
                    image = self._card_image(reason or N_("Starting"))
                else:
                    image = self._last
                self._stats.add_resent()
            if (
                got is not None
                and reason is not None
                and (reason in ("Paused", self._health.blocked))
            ):
                image = self._card_image(reason)
            try:
                self._sink.send(image)
            except Exception as exc:
                message = f"{self._sink.description} failed: {exc}"
                self._health.sink(False, message)
                log.error("%s; reopening", message)
                self._stop.wait(self._backoff.initial)
                return
            last_sent = time.monotonic()
            self.sent = image
            self._stats.tick("out", last_sent)
            if captured_at is not None:
                self._stats.record_latency(last_sent - captured_at)
                self._sent_new += 1
                if self._max_frames is not None and self._sent_new >= self._max_frames:
                    self._stop.set()
