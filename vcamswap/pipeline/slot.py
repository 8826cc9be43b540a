"""LatestSlot: the only buffer on the frame path. One item, newest wins, drops are counted."""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestSlot(Generic[T]):
    """Holds the newest item and a version that grows by one per ``put``.

    A consumer remembers the version it last took and asks for anything newer; a gap between
    versions is the number of items it never saw (dropped). ``close`` wakes every waiter.
    Memory is bounded by design: one item.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._version = 0
        self._taken = 0
        self._closed = False

    def put(self, item: T) -> int:
        with self._cond:
            self._item = item
            self._version += 1
            self._cond.notify_all()
            return self._version

    def get_newer(self, version: int, timeout: float) -> tuple[int, T] | None:
        """The newest item if its version is above ``version``; None after ``timeout`` or close."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._version <= version and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            if self._version <= version or self._item is None:
                return None
            self._taken = self._version
            self._cond.notify_all()
            return self._version, self._item

    def wait_taken(self, version: int, timeout: float) -> bool:
        """Block until a consumer took ``version`` (back-pressure for unpaced benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._taken < version and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return self._taken >= version

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed
