"""Who reads the virtual camera (Linux): the level check behind `camera.mode: on-demand`.

It counts other processes holding the v4l2loopback node open by scanning /proc/*/fd: the slow,
reliable half of the on-demand design (pipeline/demand.py); v4l2loopback's client-usage event
(devices/v4l2events.py) is the fast half."""

from __future__ import annotations

import os
from pathlib import Path


class ProcReaderCount:
    """Counts processes, other than this one, with ``device`` open."""

    def __init__(self, device: str, proc: Path = Path("/proc"), me: int | None = None) -> None:
        self._device = os.path.realpath(device)
        self._proc = proc
        self._me = os.getpid() if me is None else me

    def count(self) -> int:
        readers = 0
        try:
            entries = list(self._proc.iterdir())
        except OSError:
            return 0
        for entry in entries:
            if not entry.name.isdigit() or int(entry.name) == self._me:
                continue
            try:
                fds = list((entry / "fd").iterdir())
            except OSError:
                continue  # another user's process, or gone
            for fd in fds:
                try:
                    if os.path.realpath(os.readlink(fd)) == self._device:
                        readers += 1
                        break
                except OSError:
                    continue
        return readers
