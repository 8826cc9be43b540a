"""RuntimeState: the user's live toggles, lock-guarded, read once per frame by the workers.

It sits in the lowest layer because the pipeline, the processors, the tray and the control API
all read or change it; nothing lives in module globals.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Toggles:
    """The user's live switches, read as one consistent value per frame."""

    swap_enabled: bool = True
    paused: bool = False
    face: str | None = None
    enhancer: bool = False
    mouth_mask: bool = False


class RuntimeState:
    """Holds the current Toggles; ``changed`` is set on every update so idle loops can wait."""

    def __init__(self, toggles: Toggles | None = None) -> None:
        self._lock = threading.Lock()
        self._toggles = toggles or Toggles()
        self.changed = threading.Event()

    def get(self) -> Toggles:
        with self._lock:
            return self._toggles

    def update(self, **changes: object) -> Toggles:
        with self._lock:
            self._toggles = replace(self._toggles, **changes)  # type: ignore[arg-type]
            toggles = self._toggles
        self.changed.set()
        return toggles
