"""On-demand camera: pause capture while nobody reads the virtual camera, resume when someone
does. Runs on its own thread and only flips RuntimeState.paused; the capture worker opens and
closes the camera on its own thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from vcamswap.runtime import RuntimeState

log = logging.getLogger(__name__)


class DemandController:
    """Polls ``readers`` every ``interval`` s; pauses after ``grace`` s with no reader."""

    def __init__(self, readers: Callable[[], int], state: RuntimeState, stop: threading.Event,
                 grace: float = 5.0, interval: float = 1.0) -> None:
        self._readers = readers
        self._state = state
        self._stop = stop
        self._grace = grace
        self._interval = interval
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vcamswap-demand", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last_reader = time.monotonic()
        while not self._stop.is_set():
            try:
                count = self._readers()
            except Exception as exc:
                log.warning("cannot tell who reads the virtual camera (%s); keeping it on", exc)
                count = 1
            now = time.monotonic()
            paused = self._state.get().paused
            if count > 0:
                last_reader = now
                if paused:
                    log.info("an app opened the virtual camera: opening the camera")
                    self._state.update(paused=False)
            elif not paused and now - last_reader >= self._grace:
                log.info("no app has read the virtual camera for %.0f s: closing the camera",
                         self._grace)
                self._state.update(paused=True)
            self._stop.wait(self._interval)
