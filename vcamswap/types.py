"""Values that cross every layer: frames and faces. Frozen, slotted, free of heavy imports."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

BgrImage = NDArray[np.uint8]
"""HxWx3 C-contiguous BGR uint8: the one pixel format inside the pipeline."""

Points = NDArray[np.float32]
"""Nx2 float32 pixel coordinates (x, y)."""


@dataclass(frozen=True, slots=True)
class FaceBox:
    """An axis-aligned face box in frame pixels, with the detector's score."""

    left: float
    top: float
    right: float
    bottom: float
    score: float = 1.0

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def area(self) -> float:
        return max(0.0, self.width) * max(0.0, self.height)


@dataclass(frozen=True, slots=True)
class Frame:
    """One image on its way through the pipeline.

    ``seq`` increases per source; ``captured_at`` is ``time.monotonic()`` at capture, used for
    end-to-end latency. Processors return a new Frame and never mutate ``image`` in place.
    """

    image: BgrImage
    seq: int
    captured_at: float
    swapped: bool = False
    regions: tuple[FaceBox, ...] = ()
    """Boxes of the faces the processor swapped (the privacy guard blurs them on failure)."""
    guarded: str | None = None
    """Why the privacy guard replaced this frame (None: it did not)."""

    def with_image(
        self,
        image: BgrImage,
        *,
        swapped: bool | None = None,
        regions: tuple[FaceBox, ...] | None = None,
        guarded: str | None = None,
    ) -> Frame:
        return Frame(
            image=image,
            seq=self.seq,
            captured_at=self.captured_at,
            swapped=self.swapped if swapped is None else swapped,
            regions=self.regions if regions is None else regions,
            guarded=guarded,
        )


def validate_bgr(image: object, where: str) -> BgrImage:
    """Check the pipeline pixel contract once at a boundary; raise ValueError naming ``where``."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{where}: expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"{where}: expected an HxWx3 uint8 BGR image, got shape {image.shape} {image.dtype}"
        )
    if not image.flags["C_CONTIGUOUS"]:
        return np.ascontiguousarray(image)
    return image


class StageRecorder(Protocol):
    """Receives per-stage timings (milliseconds) from processors, on the inference thread."""

    def record_stage(self, stage: str, ms: float) -> None: ...


@contextmanager
def timed_stage(recorder: StageRecorder, stage: str) -> Iterator[None]:
    """Record the wall time of the ``with`` block as ``stage`` (milliseconds)."""
    started = time.perf_counter()
    yield
    recorder.record_stage(stage, (time.perf_counter() - started) * 1000.0)


class NullStageRecorder:
    """Discards stage timings (offline jobs, tests)."""

    def record_stage(self, stage: str, ms: float) -> None:
        return None


class FrameSource(Protocol):
    """A camera, file or generator. Opened, read and closed on the capture thread only.

    ``paced_by_device`` is True when ``read`` blocks until the device delivers the next frame
    (a webcam); otherwise the capture worker paces reads at ``nominal_fps``.
    """

    @property
    def nominal_fps(self) -> float: ...

    @property
    def paced_by_device(self) -> bool: ...

    @property
    def description(self) -> str: ...

    def open(self) -> None:
        """Open the device; raise DeviceError with an actionable message if unavailable."""

    def read(self) -> BgrImage | None:
        """The next frame, or None when the device stopped delivering (unplugged, failed)."""

    def close(self) -> None:
        """Release the device. Idempotent."""


class FrameProcessor(Protocol):
    """Turns a frame into the frame to show. Runs on the inference thread.

    ``start`` runs once on that thread before the first frame (create sessions, warm up);
    ``close`` runs once on it at the end. ``process`` never mutates ``frame.image`` in place.
    Lives here, at the bottom, so the engines (below the pipeline) implement the same seam the
    pipeline drives.
    """

    def start(self) -> None: ...

    def process(self, frame: Frame) -> Frame: ...

    def close(self) -> None: ...
