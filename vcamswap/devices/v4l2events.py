"""v4l2loopback's client-usage event: the fast half of "who reads the virtual camera" (Linux).

v4l2loopback (0.13 and newer) queues the private event ``V4L2_EVENT_PRI_CLIENT_USAGE`` with a
``__u32 count`` payload whenever a capture client starts streaming, stops or closes. We subscribe
on a second descriptor of the device (opening it does not make us a consumer), wait for the
exceptional condition with ``select`` and dequeue with ``VIDIOC_DQEVENT``. The event is
edge-triggered, so the demand controller pairs it with the /proc level check in ``readers.py``.
Older modules reject the subscription with EINVAL: ``EventUnsupportedError``, and the caller
falls back to the level check alone.

The structs are declared with ctypes so their sizes, and the ioctl numbers derived from them,
follow the platform's C layout (``struct v4l2_event`` is 136 bytes on 64-bit Linux).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import select
import struct
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

V4L2_EVENT_PRIVATE_START = 0x08000000
V4L2_EVENT_PRI_CLIENT_USAGE = V4L2_EVENT_PRIVATE_START + 0x08E00000 + 1
V4L2_EVENT_SUB_FL_SEND_INITIAL = 1 << 0


class _Timespec(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long))


class _EventUnion(ctypes.Union):
    # The kernel union holds structs with __s64 members, so it is 8-byte aligned; the int64
    # member reproduces that alignment, ``data`` its 64-byte size.
    _fields_ = (("data", ctypes.c_uint8 * 64), ("_align", ctypes.c_int64))


class V4l2Event(ctypes.Structure):
    """``struct v4l2_event`` from linux/videodev2.h."""

    _fields_ = (
        ("type", ctypes.c_uint32),
        ("u", _EventUnion),
        ("pending", ctypes.c_uint32),
        ("sequence", ctypes.c_uint32),
        ("timestamp", _Timespec),
        ("id", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 8),
    )


class V4l2EventSubscription(ctypes.Structure):
    """``struct v4l2_event_subscription``."""

    _fields_ = (
        ("type", ctypes.c_uint32),
        ("id", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 5),
    )


def _ioc(direction: int, number: int, size: int) -> int:
    """The kernel's _IOC(dir, 'V', nr, size) for the asm-generic layout (x86, arm, riscv)."""
    return (direction << 30) | (size << 16) | (ord("V") << 8) | number


_IOC_WRITE, _IOC_READ = 1, 2
VIDIOC_DQEVENT = _ioc(_IOC_READ, 89, ctypes.sizeof(V4l2Event))
VIDIOC_SUBSCRIBE_EVENT = _ioc(_IOC_WRITE, 90, ctypes.sizeof(V4l2EventSubscription))
VIDIOC_UNSUBSCRIBE_EVENT = _ioc(_IOC_WRITE, 91, ctypes.sizeof(V4l2EventSubscription))


class EventUnsupportedError(OSError):
    """The module gives no client-usage event (older v4l2loopback, or not a loopback)."""


def decode_client_usage(raw: bytes) -> int | None:
    """The reader count in a packed ``struct v4l2_event``; None for any other event type."""
    if len(raw) < ctypes.sizeof(V4l2Event):
        raise ValueError(f"a v4l2_event is {ctypes.sizeof(V4l2Event)} bytes, got {len(raw)}")
    event = V4l2Event.from_buffer_copy(raw[: ctypes.sizeof(V4l2Event)])
    if event.type != V4L2_EVENT_PRI_CLIENT_USAGE:
        return None
    return int(struct.unpack_from("=I", bytes(event.u.data))[0])


Ioctl = Callable[[int, int, bytearray], Any]
Poll = Callable[[int, float], bool]


def _fcntl_ioctl(fd: int, request: int, buffer: bytearray) -> Any:
    import fcntl

    return fcntl.ioctl(fd, request, buffer, True)


def _select_exceptional(fd: int, timeout: float) -> bool:
    _, _, exceptional = select.select([], [], [fd], max(0.0, timeout))
    return bool(exceptional)


class ClientUsageWatcher:
    """Subscribes to the client-usage event of ``device`` and reports reader-count changes.

    ``ioctl``, ``poll`` and ``opener`` are injectable so the dequeue logic is tested without a
    kernel module; by default they are ``fcntl.ioctl``, ``select.select`` and ``os.open``.
    """

    def __init__(
        self,
        device: str,
        *,
        ioctl: Ioctl = _fcntl_ioctl,
        poll: Poll = _select_exceptional,
        opener: Callable[[str], int] | None = None,
        closer: Callable[[int], None] = os.close,
    ) -> None:
        self._device = device
        self._ioctl = ioctl
        self._poll = poll
        self._open = opener or (lambda path: os.open(path, os.O_RDWR | os.O_NONBLOCK))
        self._close = closer
        self._fd: int | None = None

    def open(self) -> None:
        """Subscribe (with SEND_INITIAL, so the current count arrives at once).

        Raises EventUnsupportedError when the module rejects the subscription, OSError when the
        device cannot be opened."""
        fd = self._open(self._device)
        sub = V4l2EventSubscription(
            type=V4L2_EVENT_PRI_CLIENT_USAGE, flags=V4L2_EVENT_SUB_FL_SEND_INITIAL
        )
        try:
            self._ioctl(fd, VIDIOC_SUBSCRIBE_EVENT, bytearray(bytes(sub)))
        except OSError as exc:
            self._close(fd)
            if exc.errno in (errno.EINVAL, errno.ENOTTY, errno.ENOENT):
                raise EventUnsupportedError(
                    exc.errno,
                    f"{self._device} gives no client-usage event (v4l2loopback older than 0.13?)",
                ) from exc
            raise
        self._fd = fd

    def wait(self, timeout: float) -> int | None:
        """Block up to ``timeout`` s; the newest reader count when events arrived, else None."""
        if self._fd is None:
            raise RuntimeError("ClientUsageWatcher.wait before open")
        if not self._poll(self._fd, timeout):
            return None
        latest: int | None = None
        while True:  # drain: only the newest count matters
            buffer = bytearray(ctypes.sizeof(V4l2Event))
            try:
                self._ioctl(self._fd, VIDIOC_DQEVENT, buffer)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.EAGAIN):
                    return latest
                raise
            count = decode_client_usage(bytes(buffer))
            if count is not None:
                latest = count
            if V4l2Event.from_buffer_copy(bytes(buffer)).pending == 0:
                return latest

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            sub = V4l2EventSubscription(type=V4L2_EVENT_PRI_CLIENT_USAGE)
            with contextlib.suppress(OSError):
                self._ioctl(fd, VIDIOC_UNSUBSCRIBE_EVENT, bytearray(bytes(sub)))
            self._close(fd)
