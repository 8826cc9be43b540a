"""Health: what the workers report about their devices, lock-guarded."""

from __future__ import annotations

import threading
import time
from typing import Literal

CameraState = Literal["starting", "ok", "lost", "paused"]


class Health:
    """What the workers know about their devices, for placeholders and Status."""

    def __init__(self, stale_after_s: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._camera: CameraState = "starting"
        self._sink_ok = False
        self._last_frame_at: float | None = None
        self._last_error: str | None = None
        self._blocked: str | None = None
        self._degraded: str | None = None
        self._stale_after = stale_after_s

    def degrade(self, reason: str | None) -> None:
        """The swap runs degraded (``reason``), or normally again (None)."""
        with self._lock:
            self._degraded = reason
            if reason:
                self._last_error = reason

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
                return "Paused"
            if self._camera == "lost":
                return "Camera unavailable"
            if self._camera == "ok" and self._last_frame_at is not None and (
                now - self._last_frame_at > self._stale_after
            ):
                return "Camera unavailable"
            return None
