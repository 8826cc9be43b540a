"""The seams the pipeline is built from. Concrete parts are wired in by ``vcamswap.daemon``."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from vcamswap.types import BgrImage, Frame, FrameProcessor, FrameSource

# FrameSource and FrameProcessor live in vcamswap.types (the lowest layer): devices wrap
# sources and engines implement processors, and neither may import the pipeline.
__all__ = [
    "FailurePolicy",
    "Finishing",
    "FrameProcessor",
    "FrameSink",
    "FrameSource",
    "PassthroughPolicy",
    "PlaceholderRenderer",
    "QualityControlled",
    "RemoteWaiting",
]


class FrameSink(Protocol):
    """A virtual camera, recording or discard. Owned by the output thread."""

    @property
    def description(self) -> str: ...

    def open(self) -> None:
        """Open the output; raise DeviceError with the per-OS fix if unavailable."""

    def send(self, image: BgrImage) -> None:
        """Write one BGR frame; the sink fits it to its own size if needed."""

    def close(self) -> None:
        """Release the output. Idempotent."""


@runtime_checkable
class QualityControlled(Protocol):
    """A processor with a quality ladder for the governor: level 0 is full quality, each next
    level is cheaper. ``set_quality`` runs on the inference thread, between frames."""

    def quality_levels(self) -> tuple[str, ...]: ...

    def set_quality(self, level: int) -> None: ...


@runtime_checkable
class RemoteWaiting(Protocol):
    """A processor whose models may run on a remote server: the seconds spent waiting on it so
    far (the governor keeps local quality when the server is what holds the frame rate)."""

    def remote_wait_s(self) -> float: ...


class FailurePolicy(Protocol):
    """Decides what to show for a frame in which no face was swapped (the privacy guard):
    ``process`` raised (``on_failure``), or returned a frame with ``swapped`` unset
    (``on_unswapped``). A frame the policy replaced carries ``guarded`` (the reason)."""

    def on_success(self, frame: Frame) -> None: ...

    def on_failure(self, frame: Frame, error: BaseException) -> Frame: ...

    def on_unswapped(self, frame: Frame) -> Frame: ...


@runtime_checkable
class Finishing(Protocol):
    """A processor whose last step (the visible synthetic-media label) every output frame gets
    while the swap is on, guarded frames included. ``process`` is ``finish(swap(frame))``; the
    pipeline calls the two halves so the privacy guard can act between them."""

    def swap(self, frame: Frame) -> Frame: ...

    def finish(self, frame: Frame) -> Frame: ...


class PlaceholderRenderer(Protocol):
    """Draws a still card ("Camera unavailable", "Paused") at a given size."""

    def render(self, reason: str, width: int, height: int) -> BgrImage: ...


class PassthroughPolicy:
    """Shows the camera frame when processing fails."""

    def on_success(self, frame: Frame) -> None:
        return None

    def on_failure(self, frame: Frame, error: BaseException) -> Frame:
        return frame

    def on_unswapped(self, frame: Frame) -> Frame:
        return frame
