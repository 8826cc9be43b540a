"""Test doubles: scripted sources, recording sinks, a memory pyvirtualcam backend."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from vcamswap.types import BgrImage, Frame

if TYPE_CHECKING:
    from vcamswap.pipeline.supervisor import Supervisor


def solid(value: int, width: int = 64, height: int = 48) -> BgrImage:
    return np.full((height, width, 3), value % 256, dtype=np.uint8)


class ScriptedSource:
    """Yields numbered frames (pixel value = index % 256); ``unplugged`` makes open/read fail."""

    def __init__(
        self, fps: float = 100.0, width: int = 64, height: int = 48, paced_by_device: bool = False
    ) -> None:
        self.fps = fps
        self.width, self.height = width, height
        self._paced = paced_by_device
        self.unplugged = threading.Event()
        self.count = 0
        self.opened = 0
        self.closed = 0

    @property
    def nominal_fps(self) -> float:
        return self.fps

    @property
    def paced_by_device(self) -> bool:
        return self._paced

    @property
    def description(self) -> str:
        return "scripted source"

    def open(self) -> None:
        if self.unplugged.is_set():
            raise ConnectionError("unplugged")
        self.opened += 1

    def read(self) -> BgrImage | None:
        if self.unplugged.is_set():
            return None
        image = solid(self.count, self.width, self.height)
        self.count += 1
        return image

    def close(self) -> None:
        self.closed += 1


class PixelSink:
    """Keeps the first pixel of every frame sent (bounded by the test's length)."""

    def __init__(self, fail_open: bool = False) -> None:
        self.values: list[int] = []
        self.shapes: set[tuple[int, ...]] = set()
        self.lock = threading.Lock()
        self.fail_open = fail_open
        self.closed = 0

    @property
    def description(self) -> str:
        return "recording test sink"

    def open(self) -> None:
        if self.fail_open:
            raise RuntimeError("no driver")

    def send(self, image: BgrImage) -> None:
        with self.lock:
            self.values.append(int(image[0, 0, 0]))
            self.shapes.add(image.shape)

    def close(self) -> None:
        self.closed += 1

    def snapshot(self) -> list[int]:
        with self.lock:
            return list(self.values)


class CardRenderer:
    """Placeholder cards whose pixel value names the reason (Paused=201, other=200)."""

    def render(self, reason: str, width: int, height: int) -> BgrImage:
        return solid(201 if reason == "Paused" else 200, width, height)


class FnProcessor:
    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.started = threading.Event()
        self.closed = threading.Event()

    def start(self) -> None:
        self.started.set()

    def process(self, frame: Frame) -> Frame:
        result: Frame = self.fn(frame)
        return result

    def close(self) -> None:
        self.closed.set()


class MemoryCameraBackend:
    """A pyvirtualcam backend that keeps frames in memory (registered as 'memory')."""

    instances: list[MemoryCameraBackend] = []  # noqa: RUF012 - test-only registry

    def __init__(
        self, *, width: int, height: int, fps: float, fourcc: int, device: str | None, **_kw: Any
    ) -> None:
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self._device = device or "memory0"
        self.frames: list[np.ndarray[Any, Any]] = []
        self.closed = False
        MemoryCameraBackend.instances.append(self)

    def send(self, frame: np.ndarray[Any, Any]) -> None:
        if len(self.frames) < 1000:
            self.frames.append(frame.copy())

    def close(self) -> None:
        self.closed = True

    def device(self) -> str:
        return self._device

    def native_fourcc(self) -> int | None:
        return None


class BrokenBackend:
    def __init__(self, **_kw: Any) -> None:
        raise RuntimeError("v4l2loopback module not loaded")


def wait_for(predicate: Callable[[], object], timeout: float = 3.0) -> bool:
    """Poll ``predicate`` until it is truthy or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def passthrough_supervisor(source: Any = None, sink: Any = None) -> Supervisor:
    """A Supervisor over a scripted 30 fps source, no swap, a pixel sink and a card renderer
    at 64x48: the daemon the control, tray and panel tests drive (not started)."""
    from vcamswap.pipeline.supervisor import PipelineOptions
    from vcamswap.pipeline.supervisor import Supervisor as Pipeline
    from vcamswap.processors.base import PassthroughProcessor

    return Pipeline(
        source if source is not None else ScriptedSource(fps=30.0),
        PassthroughProcessor(),
        sink if sink is not None else PixelSink(),
        CardRenderer(),
        options=PipelineOptions(default_size=(64, 48)),
    )
