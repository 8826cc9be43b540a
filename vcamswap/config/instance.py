"""One daemon per user: an exclusive lock on a file in the user runtime folder, held for the
daemon's life and released by the OS when the process ends (even when it is killed)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from vcamswap.errors import VCamSwapError
from vcamswap.i18n import _


class AlreadyRunningError(VCamSwapError):
    """Another VCamSwap daemon of this user holds the lock."""


class InstanceLock:
    """``acquire`` takes the lock without waiting or raises AlreadyRunningError naming the
    running daemon's pid; ``release`` (or the process ending) gives it back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(fd):
            os.close(fd)
            pid = self.holder()
            raise AlreadyRunningError(
                (
                    _("VCamSwap is already running (pid {pid})").format(pid=pid)
                    if pid
                    else _("VCamSwap is already running")
                )
                + "; "
                + _("use `vcamswap ctl status|enable|disable|face NAME|quit` to control it")
            )
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd

    def holder(self) -> int | None:
        """The pid written by the daemon holding the lock, if readable."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor releases the lock

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    """An exclusive, non-blocking lock on ``fd``: flock on POSIX, msvcrt on Windows."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
