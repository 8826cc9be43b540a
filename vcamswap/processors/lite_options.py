"""The lite engine's options and its quality ladder (the governor's steps)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class LiteOptions:
    detect_every: int = 10
    detect_max_side: int = 960
    upsample: int = 0
    min_score: float = 0.1
    detect_async: bool = True
    """Live: detect on a side thread, never making a frame wait. Files and tests: inline, so the
    result does not depend on timing."""
    many_faces: bool = False
    color_correction: bool = True
    opacity: float = 1.0
    sharpness: float = 0.0
    landmarks_every: int = 1
    """Above 1, tracked faces keep their landmarks between landmark runs."""
    face_scale: float = 1.0
    """Below 1, the warp, colour transfer and feathering run at this fraction of the face's
    size and the result is scaled up for the blend (the governor's last steps)."""
    shape_transfer: float = 0.7
    """0..1: how far the target's face shape moves towards the source's (``lite_shape``; 0.7
    measured best, BENCHMARKS.md); done at full size at every ``face_scale``."""


LITE_LADDER: tuple[tuple[str, dict[str, Any]], ...] = (
    ("full quality", {}),
    ("face detection every 20 frames", {"detect_every": 20}),
    ("landmarks every 2nd frame", {"detect_every": 30, "landmarks_every": 2}),
    (
        "face blended at 3/4 resolution",
        {"detect_every": 30, "landmarks_every": 2, "face_scale": 0.75},
    ),
    (
        "face blended at 1/2 resolution",
        {"detect_every": 30, "landmarks_every": 2, "face_scale": 0.5},
    ),
)
"""The lite engine's quality ladder, cheapest last. A step never makes a setting better than
the user's own (detect_every is raised, never lowered). The detector's input size is not on
the ladder: measured, a 640 px detector lost the small faces of a 9-face 720p frame, the cost
dropped, the governor climbed back, found them again and oscillated."""


def lite_options_at(base: LiteOptions, level: int) -> LiteOptions:
    changes = dict(LITE_LADDER[max(0, min(level, len(LITE_LADDER) - 1))][1])
    if "detect_every" in changes:
        changes["detect_every"] = max(base.detect_every, changes["detect_every"])
    if "landmarks_every" in changes:
        changes["landmarks_every"] = max(base.landmarks_every, changes["landmarks_every"])
    if "face_scale" in changes:
        changes["face_scale"] = min(base.face_scale, changes["face_scale"])
    return replace(base, **changes)
