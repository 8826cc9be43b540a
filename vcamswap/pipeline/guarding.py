"""One frame through the processor and the privacy guard, the same live and offline: a frame
leaves unguarded only when the processor says it swapped a face in it; the visible label is the
last step of every frame while the swap is on."""

from __future__ import annotations

from collections.abc import Callable

from vcamswap.errors import FaceLostError
from vcamswap.pipeline.protocols import FailurePolicy, Finishing, FrameProcessor
from vcamswap.types import Frame


def guarded_process(
    processor: FrameProcessor,
    policy: FailurePolicy,
    frame: Frame,
    lost: Callable[[FaceLostError], None] | None = None,
) -> Frame:
    """``processor`` on ``frame``; a lost face (FaceLostError, DegradedError) or a frame with no
    swapped face goes through ``policy``; any other exception propagates (the caller decides:
    the live worker guards the frame, an offline job stops). ``lost`` sees each lost-face
    error (the live worker reports a degraded swap from it)."""
    finishing = processor if isinstance(processor, Finishing) else None
    try:
        result = finishing.swap(frame) if finishing is not None else processor.process(frame)
    except FaceLostError as exc:
        if lost is not None:
            lost(exc)
        result = policy.on_failure(frame, exc)
    else:
        if result.swapped:
            policy.on_success(result)
        else:
            result = policy.on_unswapped(result)
    return finish(processor, result)


def finish(processor: FrameProcessor, frame: Frame) -> Frame:
    """The processor's last step (the label) on ``frame``, when it has one."""
    return processor.finish(frame) if isinstance(processor, Finishing) else frame
