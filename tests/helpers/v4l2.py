"""Kernel-shaped v4l2 events for the on-demand tests (what v4l2loopback writes)."""

from __future__ import annotations

import ctypes
import struct

from vcamswap.devices.v4l2events import V4L2_EVENT_PRI_CLIENT_USAGE, V4l2Event


def pack_client_usage(count: int, sequence: int = 0, pending: int = 0) -> bytes:
    """A packed client-usage event as the kernel writes it."""
    event = V4l2Event(type=V4L2_EVENT_PRI_CLIENT_USAGE, pending=pending, sequence=sequence)
    ctypes.memmove(event.u.data, struct.pack("=I", count), 4)
    return bytes(event)
