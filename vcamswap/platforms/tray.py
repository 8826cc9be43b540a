"""How the tray's toolkit is reached from the daemon's other threads, per OS.

pystray's ``Icon.run`` blocks the main thread in the toolkit's loop; the tray refresh thread
then has to update the icon and, at the end, stop that loop:

- Linux (X11, GTK, AppIndicator): updates work from any thread, but the X11 loop can only be
  stopped from its own thread, so the stop is a SIGUSR1 whose handler (run by Python on the
  main thread) calls ``icon.stop()``.
- Windows: there is no SIGUSR1; pystray's win32 ``stop()`` posts a message to the icon's
  window, which is safe from any thread, so it is called directly.
- macOS: AppKit may only be used from the main thread, and a Python signal handler does not run
  while the main thread sits in ``NSApp.run()``. Every update and the stop are queued to the
  main thread's run loop (PyObjC's ``AppHelper.callAfter``, i.e.
  ``performSelectorOnMainThread``). Those calls also let Python run its pending signal handlers
  (SIGTERM) within a refresh period.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Action = Callable[[], None]


class TrayLoop(Protocol):
    def install(self, icon: Any) -> Action:
        """Prepare on the main thread before ``icon.run``; returns the undo, run after it."""

    def call(self, action: Action) -> None:
        """Run ``action`` (icon, title, menu updates) where the toolkit allows it."""

    def stop(self, icon: Any) -> None:
        """End ``icon.run`` from another thread."""


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class SignalLoop:
    """Linux: updates inline; the stop is SIGUSR1 to this process, handled on the main thread."""

    signals: Any
    kill: Callable[[int, int], None] = os.kill
    pid: Callable[[], int] = os.getpid

    def install(self, icon: Any) -> Action:
        def wake(_signum: int, _frame: object) -> None:
            icon.stop()

        previous = self.signals.signal(self.signals.SIGUSR1, wake)
        return lambda: self.signals.signal(self.signals.SIGUSR1, previous)

    def call(self, action: Action) -> None:
        action()

    def stop(self, icon: Any) -> None:
        self.kill(self.pid(), self.signals.SIGUSR1)


@dataclass(frozen=True, slots=True)
class DirectLoop:
    """Windows: updates inline and a direct ``icon.stop()``; no signal is involved."""

    def install(self, icon: Any) -> Action:
        return _nothing

    def call(self, action: Action) -> None:
        action()

    def stop(self, icon: Any) -> None:
        icon.stop()


def appkit_call_after(action: Action) -> None:
    """Queue ``action`` on the main thread's run loop (PyObjC, present wherever pystray's
    macOS backend is)."""
    from PyObjCTools import AppHelper  # type: ignore[import-not-found,unused-ignore]

    AppHelper.callAfter(action)


@dataclass(frozen=True, slots=True)
class MainThreadLoop:
    """macOS: every update and the stop go through ``dispatch`` to the main thread."""

    dispatch: Callable[[Action], None] = field(default=appkit_call_after)

    def install(self, icon: Any) -> Action:
        return _nothing

    def call(self, action: Action) -> None:
        self.dispatch(action)

    def stop(self, icon: Any) -> None:
        self.dispatch(icon.stop)
