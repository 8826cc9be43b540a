"""The simplest processors and the chain that runs several in order."""

from __future__ import annotations

from collections.abc import Sequence

from vcamswap.types import Frame, FrameProcessor


class PassthroughProcessor:
    """Returns each frame unchanged (swap off, benchmarks of the bare pipeline)."""

    def start(self) -> None:
        return None

    def process(self, frame: Frame) -> Frame:
        return frame

    def close(self) -> None:
        return None


class CopyProcessor(PassthroughProcessor):
    """Returns a copy of each frame: the cost floor of any processor that writes pixels."""

    def process(self, frame: Frame) -> Frame:
        return frame.with_image(frame.image.copy())


class ProcessorChain:
    """Runs processors in order; starts and closes them all on the inference thread.
    ``finishers`` (the visible label) run after the others, on every frame the pipeline sends
    while the swap is on, frames replaced by the privacy guard included (see ``Finishing``)."""

    def __init__(
        self,
        processors: Sequence[FrameProcessor],
        finishers: Sequence[FrameProcessor] = (),
        *,
        engine: str = "",
        engine_reason: str = "",
    ) -> None:
        self._processors = list(processors)
        self._finishers = list(finishers)
        self.engine = engine
        """The engine running ('lite', 'neural'), for status."""
        self.engine_reason = engine_reason
        """Why that engine (auto's choice, or the config)."""

    def start(self) -> None:
        for processor in (*self._processors, *self._finishers):
            processor.start()

    def swap(self, frame: Frame) -> Frame:
        for processor in self._processors:
            frame = processor.process(frame)
        return frame

    def finish(self, frame: Frame) -> Frame:
        for processor in self._finishers:
            frame = processor.process(frame)
        return frame

    def process(self, frame: Frame) -> Frame:
        return self.finish(self.swap(frame))

    def close(self) -> None:
        for processor in reversed((*self._processors, *self._finishers)):
            processor.close()

    def prefetch(self, name: str) -> None:
        """Prepare a source face in every member that keeps one (before a switch)."""
        for processor in self._processors:
            prefetch = getattr(processor, "prefetch", None)
            if prefetch is not None:
                prefetch(name)

    def remote_wait_s(self) -> float:
        """Seconds the members waited on a remote model server so far."""
        return sum(float(getattr(p, "remote_wait_s", lambda: 0.0)()) for p in self._processors)

    def quality_levels(self) -> tuple[str, ...]:
        """The ladder of the first member that has one (the swap), else just full quality."""
        for processor in self._processors:
            levels = getattr(processor, "quality_levels", None)
            if levels is not None:
                return tuple(levels())
        return ("full quality",)

    def set_quality(self, level: int) -> None:
        for processor in self._processors:
            setter = getattr(processor, "set_quality", None)
            if setter is not None:
                setter(level)
                return
