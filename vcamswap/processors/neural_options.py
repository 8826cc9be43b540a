"""The neural engine's options and its quality ladder (the governor's steps)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class NeuralOptions:
    detect_every: int = 1
    many_faces: bool = False
    color_correction: bool = True
    opacity: float = 1.0
    sharpness: float = 0.0
    enhancer_every: int = 1
    enhancer_blend: float = 0.8
    smoothing: bool = True
    """One-Euro filter on each face's keypoints, and colour statistics and masks smoothed
    across frames (per face)."""
    sources: tuple[str, ...] = ()
    """Several source faces: each target face gets the most similar one (ArcFace cosine)."""
    detect_async: bool = False
    """Live: SCRFD runs on a side thread on the newest frame while the inference thread swaps
    with the latest keypoints (one frame older at most); files keep inline detection."""
    enhancer_allowed: bool = True
    detector_size: int | None = None
    """SCRFD input side (multiple of 32); None keeps the model's (640)."""
    resolution: int = 128
    """Pixel boost: the swapped face's side in pixels; above the swapper's own size the
    aligned crop is split into sub-sampled tiles of that size (swap.resolution)."""
    parser: bool = False
    """A face parser masks the paste (swap.mask: parser)."""
    parser_every: int = 1
    """Run the face parser every Nth frame; in between each face's last mask is reused."""
    mask_regions: tuple[str, ...] = ("skin", "brows", "eyes", "nose", "mouth", "lips")


_STEPS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("full quality", {}),
    ("pixel boost at most 256 px", {"resolution": 256}),
    ("pixel boost off", {"resolution": 128}),
    ("enhancer every 2nd frame", {"enhancer_every": 2}),
    ("enhancer every 4th frame", {"enhancer_every": 4}),
    ("enhancer off", {"enhancer_allowed": False}),
    ("face parser every 2nd frame", {"parser_every": 2}),
    ("face parser every 4th frame", {"parser_every": 4}),
    ("detection every 2nd frame", {"detect_every": 2}),
    ("detection every 3rd frame at 480 px", {"detect_every": 3, "detector_size": 480}),
    ("detection every 3rd frame at 320 px", {"detect_every": 3, "detector_size": 320}),
)
"""Cumulative: each step keeps the ones before. Pixel boost goes first (it multiplies the
swapper's work), then the enhancer (the most expensive model), the parser, detection."""


def _apply(base: NeuralOptions, changes: dict[str, Any]) -> NeuralOptions:
    """A step never makes a setting better than the user's own."""
    fixed = dict(changes)
    for key in ("enhancer_every", "detect_every", "parser_every"):
        if key in fixed:
            fixed[key] = max(getattr(base, key), fixed[key])
    if "enhancer_allowed" in fixed:
        fixed["enhancer_allowed"] = base.enhancer_allowed and fixed["enhancer_allowed"]
    if "detector_size" in fixed and base.detector_size is not None:
        fixed["detector_size"] = min(base.detector_size, fixed["detector_size"])
    if "resolution" in fixed:
        fixed["resolution"] = min(base.resolution, fixed["resolution"])
    return replace(base, **fixed)


def neural_ladder(base: NeuralOptions) -> tuple[tuple[str, NeuralOptions], ...]:
    """The steps that change something for these options (no pixel boost steps without
    pixel boost, no parser steps without the parser)."""
    steps: list[tuple[str, NeuralOptions]] = []
    current: dict[str, Any] = {}
    for name, changes in _STEPS:
        if "parser_every" in changes and not base.parser:
            continue
        current.update(changes)
        options = _apply(base, current)
        if steps and options == steps[-1][1]:
            continue
        steps.append((name, options))
    return tuple(steps)


def neural_options_at(base: NeuralOptions, level: int) -> NeuralOptions:
    ladder = neural_ladder(base)
    return ladder[max(0, min(level, len(ladder) - 1))][1]
