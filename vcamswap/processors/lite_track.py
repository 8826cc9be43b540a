"""The lite engine's face tracks: landmarks followed from frame to frame with the box the shape
predictor was trained on, the tracker's own damping, the drawn points' One-Euro filter, and the
fade on head turns the 68-point mesh cannot warp."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vcamswap.processors import mesh
from vcamswap.processors.smoothing import PointsFilter
from vcamswap.types import FaceBox, Points

BoxFit = tuple[float, float, float, float]
"""A detector box relative to the landmarks' bounding box: centre offset and size, in units of
that box. The shape predictor is trained on detector boxes, so tracking must feed it the same
kind of box; feeding the landmarks' own bounds instead makes the face drift and grow."""
DEFAULT_FIT: BoxFit = (0.0, -0.05, 0.9, 0.9)


def _bounds(points: Points) -> tuple[float, float, float, float]:
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return float(x0), float(y0), float(max(x1 - x0, 1.0)), float(max(y1 - y0, 1.0))


def box_fit(points: Points, box: FaceBox) -> BoxFit:
    x, y, w, h = _bounds(points)
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    return ((cx - (x + w / 2)) / w, (cy - (y + h / 2)) / h, box.width / w, box.height / h)


def box_of(points: Points, fit: BoxFit = DEFAULT_FIT) -> FaceBox:
    x, y, w, h = _bounds(points)
    cx, cy = x + w / 2 + fit[0] * w, y + h / 2 + fit[1] * h
    half_w, half_h = fit[2] * w / 2, fit[3] * h / 2
    return FaceBox(cx - half_w, cy - half_h, cx + half_w, cy + half_h)


START_SCORE = 0.25
"""HOG score a detection needs to start the one track (the astronaut's mission patch scores
0.03-0.15 on the demo clip, the faces there 0.8-1.6)."""
CONFIDENT_SCORE = 0.5
"""A detection away from the track this confident replaces it at once (the track drifted)."""
YAW_LIMIT = 0.8
"""``mesh.yaw`` beyond which the swap is not shown (the nose 90% of the way to a jaw end)."""
YAW_FADE = 0.2
FADE_STEP = 0.34
SHOWN = 0.5
"""Below this fade a face counts as not swapped and the frame goes to the privacy guard: the
fade never puts more than half of the real face on air."""


@dataclass(slots=True, eq=False)
class Track:
    raw: Points
    """What tracking follows (the predictor's box, the checks): the measured landmarks, lightly
    smoothed (``tracking_blend``) so the box-to-landmarks loop cannot drift and grow."""
    fit: BoxFit = DEFAULT_FIT
    misses: int = 0
    smooth: PointsFilter = field(default_factory=PointsFilter)
    points: Points = field(init=False)
    """The filtered landmarks: what is drawn (steady at rest; tracking uses ``raw``, so the
    filter's lag never pulls the predictor's box off a moving head)."""

    def __post_init__(self) -> None:
        self.points = self.raw

    fade: float = 1.0
    """How much of the swap is shown: it falls over a few frames when the head turns further
    than the 68-point mesh can warp without shearing, and rises again after."""

    def turn(self) -> None:
        """Move ``fade`` a third of the way per frame towards what the head's yaw allows."""
        allowed = float(np.clip((YAW_LIMIT - abs(mesh.yaw(self.points))) / YAW_FADE, 0.0, 1.0))
        step = float(np.clip(allowed - self.fade, -FADE_STEP, FADE_STEP))
        self.fade = float(np.clip(self.fade + step, 0.0, 1.0))

    @property
    def box(self) -> FaceBox:
        return box_of(self.raw, self.fit)


def tracking_blend(previous: Points, new: Points) -> Points:
    """The tracker's own damping (not the drawn points'): follow at once when the face moves
    fast, blend when it is still, so the box fed back to the shape predictor stays steady."""
    iod = max(mesh.inter_ocular(new), 1.0)
    motion = float(np.abs(new - previous).mean()) / iod
    alpha = min(1.0, 0.35 + 8.0 * motion)
    return (previous + alpha * (new - previous)).astype(np.float32)


def iou(a: FaceBox, b: FaceBox) -> float:
    w = min(a.right, b.right) - max(a.left, b.left)
    h = min(a.bottom, b.bottom) - max(a.top, b.top)
    inter = max(0.0, w) * max(0.0, h)
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0
