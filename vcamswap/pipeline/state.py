"""Health: what the workers report about their devices, lock-guarded."""

from __future__ import annotations

import threading
import time
from typing import Literal

from vcamswap.i18n import N_

CameraState = Literal["starting", "ok", "lost", "paused"]


class Health:
    """What the workers know about their devices, for placeholders and Status."""

    STALE_AFTER_S = 3.0
    """A camera that delivered nothing for this long is shown as unavailable. Not shorter:
    loading dlib's landmark model (a reload, an engine switch) holds the interpreter lock for
    about two seconds on a slow laptop, starving the capture thread as much as the output one;
    a camera that hangs for good is shown as its last frame until then."""

    def __init__(self, stale_after_s: float = STALE_AFTER_S) -> None:
        self._lock = threading.Lock()
        self._camera: CameraState = "starting"
        self._sink_ok = False
        self._last_frame_at: float | None = None
        self._last_error: str | None = None
        self._blocked: str | None = None
        self._degraded: str | None = None
        self._engine: str | None = None
        self._failing: str | None = None
        self._streak = 0
        self._stale_after = stale_after_s

    # Consecutive frames that raised before the state says "error" (a few bad frames are not).
    ERROR_STREAK = 5

    def _settle_error(self, old: str | None) -> None:
        """The cause of ``old`` is gone: the error is cleared unless it came from elsewhere."""
        if old is not None and self._last_error == old:
            self._last_error = None

    def degrade(self, reason: str | None) -> None:
        """The swap runs degraded (``reason``), or normally again (None)."""
        with self._lock:
            if reason is None:
                self._settle_error(self._degraded)
            self._degraded = reason
            if reason:
                self._last_error = reason

    def engine(self, reason: str | None) -> None:
        """The face processor is not running (``reason``), or runs (None)."""
        with self._lock:
            if reason is None:
                self._settle_error(self._engine)
            self._engine = reason
            if reason:
                self._last_error = reason

    def failing(self, reason: str | None) -> None:
        """A frame raised in the processor (``reason``), or was processed (None). Only a streak
        of failures makes the state "error"; one good frame clears it."""
        with self._lock:
            if reason is None:
                if self._streak:
                    self._settle_error(self._failing)
                self._streak, self._failing = 0, None
                return
            self._streak += 1
            self._failing = reason
            self._last_error = reason

    @property
    def error_reason(self) -> str | None:
        """Why nothing is being swapped although the swap is on, or None."""
        with self._lock:
            if self._engine is not None:
                return self._engine
            if self._streak >= self.ERROR_STREAK:
                return self._failing
            return None

    @property
    def degraded(self) -> str | None:
        with self._lock:
            return self._degraded

    def block(self, reason: str | None) -> None:
        """Show a card with ``reason`` instead of every frame (the content check); None lifts
        it."""
        with self._lock:
            self._blocked = reason

    @property
    def blocked(self) -> str | None:
        with self._lock:
            return self._blocked

    def camera(self, state: CameraState, error: str | None = None) -> None:
        with self._lock:
            self._camera = state
            if error:
                self._last_error = error

    def frame_captured(self, at: float) -> None:
        with self._lock:
            self._last_frame_at = at
            self._camera = "ok"

    def sink(self, ok: bool, error: str | None = None) -> None:
        with self._lock:
            self._sink_ok = ok
            if error:
                self._last_error = error

    def error(self, message: str) -> None:
        with self._lock:
            self._last_error = message

    @property
    def camera_state(self) -> CameraState:
        with self._lock:
            return self._camera

    @property
    def sink_ok(self) -> bool:
        with self._lock:
            return self._sink_ok

    @property
    def last_error(self) -> str | None:
        with self._lock:
            return self._last_error

    def placeholder_reason(self, now: float | None = None) -> str | None:
        """Why the output should show a card instead of the last frame, or None."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if self._blocked is not None:
                return self._blocked
            if self._camera == "paused":
                return N_("Paused")
            if self._camera == "lost":
                return N_("Camera unavailable")
            if (
                self._camera == "ok"
                and self._last_frame_at is not None
                and (now - self._last_frame_at > self._stale_after)
            ):
                return N_("Camera unavailable")
            return None
