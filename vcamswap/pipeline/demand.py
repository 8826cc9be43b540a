"""On-demand camera: pause capture while nobody reads the virtual camera, resume when someone
does. Runs on its own thread and only flips RuntimeState.paused; the capture worker opens and
closes the camera on its own thread.

Two signals: an edge-triggered event (v4l2loopback's client
usage, which wakes this thread at once) and a slow level check (holders of the device node in
/proc). Events alone can be lost; the level check corrects them:
- the level check finds no holder while the last event said readers: the close was missed,
  so the count is 0;
- the level check finds holders on two checks in a row while the events say 0: the start was
  missed (or the app holds the device without streaming), so the level count is used.
Without events, the level check runs every ``interval`` and is the count.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from vcamswap.runtime import RuntimeState

log = logging.getLogger(__name__)

EventWait = Callable[[float], "int | None"]
"""Blocks up to the timeout; returns the new reader count when an event arrived, else None."""


class ReaderTracker:
    """Combines events and level checks into one reader count (pure; time passed in)."""

    def __init__(self, level: Callable[[], int], level_every: float) -> None:
        self._level = level
        self._level_every = level_every
        self._event_count: int | None = None
        self._last_level = -1e18
        self._disagree = 0
        self.count = 0

    def on_event(self, count: int) -> int:
        self._event_count = count
        self._disagree = 0
        self.count = count
        return count

    def tick(self, now: float, events: bool) -> int:
        """Runs the level check when due (always when there are no events)."""
        if events and now - self._last_level < self._level_every:
            return self.count
        self._last_level = now
        level = self._level()
        if not events or self._event_count is None:
            self.count = level
        elif level == 0 and self._event_count > 0:
            log.info(
                "no process holds the virtual camera although the last event said %d "
                "reader(s): a close event was missed",
                self._event_count,
            )
            self._event_count = 0
            self.count = 0
        elif level > 0 and self._event_count == 0:
            self._disagree += 1
            if self._disagree == 2:
                log.info(
                    "%d process(es) hold the virtual camera but no start event came: "
                    "following the level check",
                    level,
                )
            self.count = level if self._disagree >= 2 else 0
        else:
            self._disagree = 0
            self.count = self._event_count
        return self.count


class DemandController:
    """Pauses after ``grace`` s with no reader; resumes as soon as one appears.

    ``readers`` is the level check; ``events`` (optional) the edge-triggered wait. Without
    events the level check runs every ``interval`` s, with them every ``level_every`` s."""

    def __init__(
        self,
        readers: Callable[[], int],
        state: RuntimeState,
        stop: threading.Event,
        grace: float = 5.0,
        interval: float = 1.0,
        *,
        events: EventWait | None = None,
        level_every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._readers = readers
        self._tracker = ReaderTracker(readers, level_every if events else 0.0)
        self._events = events
        self._state = state
        self._stop = stop
        self._grace = grace
        self._interval = interval
        self._clock = clock
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vcamswap-demand", daemon=True)
        self._thread.start()

    def _count(self) -> int:
        events = self._events
        if events is not None:
            try:
                got = events(self._interval)
            except OSError as exc:
                log.warning(
                    "the virtual camera's usage events failed (%s); using the level check alone",
                    exc,
                )
                self._events = None
                self._tracker = ReaderTracker(self._readers, 0.0)
                got = None
            if got is not None:
                return self._tracker.on_event(got)
        else:
            self._stop.wait(self._interval)
        return self._tracker.tick(self._clock(), self._events is not None)

    def _run(self) -> None:
        last_reader = self._clock()
        first = True
        while not self._stop.is_set():
            try:
                count = self._tracker.tick(self._clock(), False) if first else self._count()
            except Exception as exc:
                log.warning("cannot tell who reads the virtual camera (%s); keeping it on", exc)
                count = 1
            first = False
            now = self._clock()
            paused = self._state.get().paused
            if count > 0:
                last_reader = now
                if paused:
                    log.info("an app opened the virtual camera: opening the camera")
                    self._state.update(paused=False)
            elif not paused and now - last_reader >= self._grace:
                log.info(
                    "no app has read the virtual camera for %.0f s: closing the camera", self._grace
                )
                self._state.update(paused=True)
