"""FrameClock: paces a loop at a fixed rate without drifting, waiting on the stop event."""

from __future__ import annotations

import threading
import time


class FrameClock:
    """Ticks at ``fps``. ``wait`` sleeps until the next tick (on the stop event, so a stop
    interrupts it) and returns False once stopped. Falling behind by more than one interval
    re-anchors the schedule instead of bursting to catch up."""

    def __init__(self, fps: float, stop: threading.Event) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.interval = 1.0 / fps
        self._stop = stop
        self._next = time.monotonic() + self.interval

    def wait(self) -> bool:
        delay = self._next - time.monotonic()
        if delay > 0:
            if self._stop.wait(delay):
                return False
            self._next += self.interval
        else:
            behind = -delay
            self._next = (
                time.monotonic() + self.interval
                if behind > self.interval
                else self._next + self.interval
            )
        return not self._stop.is_set()
