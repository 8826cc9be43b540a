"""The lite engine's face tracks: landmarks followed from frame to frame with the box the shape
predictor was trained on, the tracker's own damping, the drawn points' One-Euro filter, and the
fade on head turns the 68-point mesh cannot warp."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vcamswap.processors import mesh
from vcamswap.processors.mesh import FloatImage
from vcamswap.processors.smoothing import PointsFilter
from vcamswap.types import FaceBox, Points

GrayImage = np.ndarray[Any, np.dtype[np.uint8]]

BoxFit = tuple[float, float, float, float]
"""A detector box relative to the eyes: the offset of its centre from the eyes' midpoint
(along and across the eye line) and its size, in inter-ocular distances. The shape predictor
is trained on detector boxes, so tracking must feed it the same kind of box. The eyes are the
steadiest of the 68 points: a box sized from the landmarks' own bounds let a misplaced jaw
widen the next box, which widened the jaw (a Grace Hopper clip grew 1.4x in 10 frames and
slid off the face)."""
DEFAULT_FIT: BoxFit = (0.0, 0.55, 2.3, 2.3)


def _eyes(points: Points) -> tuple[np.ndarray, np.ndarray, float]:
    """(midpoint of the eye centres, unit vector along the eye line, inter-ocular distance)."""
    left = points[mesh.LEFT_EYE].mean(axis=0).astype(np.float64)
    right = points[mesh.RIGHT_EYE].mean(axis=0).astype(np.float64)
    line = right - left
    iod = max(float(np.linalg.norm(line)), 1.0)
    return (left + right) / 2, line / iod, iod


def box_fit(points: Points, box: FaceBox) -> BoxFit:
    mid, along, iod = _eyes(points)
    across = np.array([-along[1], along[0]])
    offset = np.array([(box.left + box.right) / 2, (box.top + box.bottom) / 2]) - mid
    return (
        float(offset @ along) / iod,
        float(offset @ across) / iod,
        box.width / iod,
        box.height / iod,
    )


def tracking_box(points: Points, fit: BoxFit = DEFAULT_FIT) -> FaceBox:
    """The detector-like box for the shape predictor: placed and sized from the eyes."""
    mid, along, iod = _eyes(points)
    across = np.array([-along[1], along[0]])
    cx, cy = mid + (fit[0] * along + fit[1] * across) * iod
    half_w, half_h = fit[2] * iod / 2, fit[3] * iod / 2
    return FaceBox(float(cx - half_w), float(cy - half_h), float(cx + half_w), float(cy + half_h))


def box_of(points: Points) -> FaceBox:
    """The landmarks' bounding box."""
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return FaceBox(float(x0), float(y0), float(x1), float(y1))


START_SCORE = 0.25
"""HOG score a detection needs to start the one track (the astronaut's mission patch scores
0.03-0.15 on the demo clip, the faces there 0.8-1.6)."""
CONFIDENT_SCORE = 0.5
"""A detection away from the track this confident replaces it at once (the track drifted)."""
COVERAGE_LIMIT = 0.6
"""``mesh.coverage`` below which the swap is not shown: the head is turned so far that the
mesh folds over much of the far cheek (a three-quarter view keeps about 0.75-0.8 of the face
and is shown; the folded part keeps the camera's pixels)."""
COVERAGE_FADE = 0.12
YAW_LIMIT = 0.99
"""``mesh.yaw`` beyond which the swap is never shown, whatever the coverage: the nose tip at
the jaw's end, a profile."""
YAW_FADE = 0.06
FADE_STEP = 0.34
DRIFT = 1.5
"""Between detections a track's eye distance may grow or shrink by at most this factor from
its value when the detector last confirmed it; beyond it the landmarks have slid off the face
(onto a chin, a collar or a badge on a motion-blurred head: seen on a loaded machine, where
detections come late) and the track ends: the privacy guard takes the frames until the
detector finds the face again."""
LIKENESS = 0.4
"""Correlation of the upright 40 px face patch with the patch at the last detection below
which a track ends (measured: on-face frames of moving, nodding and zooming package photos
0.8-1.0; landmarks left on a wall or a shoulder after the head jumped -0.4-0.33)."""
REFRESH = 0.7
"""Below this correlation the landmarks may be sliding off the face: the next frame runs the
detector instead of waiting for its turn."""
SHOWN = 0.5
"""Below this fade a face counts as not swapped and the frame goes to the privacy guard: the
fade never puts more than half of the real face on air."""


@dataclass(slots=True, eq=False)
class Track:
    raw: Points
    """What tracking follows (the predictor's box, the checks): the measured landmarks, lightly
    smoothed (``tracking_blend``) so the box-to-landmarks loop cannot drift and grow."""
    fit: BoxFit = DEFAULT_FIT
    size: tuple[float, float] = (0.0, 0.0)
    """The detector's box size at the last confirmation: the box fed to the shape predictor
    keeps it until the next detection (only its position follows the eyes). Letting the
    landmarks size the box closed a loop: a box a little small gave smaller landmarks, a
    smaller box, and the face shrank 10% a frame until the track was lost (seen with the
    detector on its side thread, 2 of 10 runs of a clip)."""
    anchor: float = 0.0
    """The eye distance when the detector last confirmed this track."""
    misses: int = 0
    template: FloatImage | None = None
    """``mesh.aligned_patch`` of the face when the detector last confirmed it."""
    likeness: float = 1.0
    """The last followed frame's correlation with ``template``."""
    suspect: bool = False
    """The last frame's landmarks failed a check: that frame went to the privacy guard and the
    detector runs next; a second failure in a row ends the track. Small faces (eye distance
    about 40 px) have noisy landmarks that fail one frame now and then, most often under load
    where detections come late."""
    smooth: PointsFilter = field(default_factory=PointsFilter)
    patch: Any = None
    """The face's last ``lite_patch.FacePatch`` (reused while the face holds still)."""
    reshape: Any = None
    """The face's last ``lite_shape.Reshape`` maps (reused while the face holds still)."""
    points: Points = field(init=False)
    """The filtered landmarks: what is drawn (steady at rest; tracking uses ``raw``, so the
    filter's lag never pulls the predictor's box off a moving head)."""

    def __post_init__(self) -> None:
        self.points = self.raw
        if self.size == (0.0, 0.0):
            box = tracking_box(self.raw, self.fit)
            self.size = (box.width, box.height)
        if self.anchor <= 0.0:
            self.anchor = mesh.inter_ocular(self.raw)

    @classmethod
    def start(cls, points: Points, box: FaceBox) -> Track:
        """A new track from a detection and the landmarks found in it."""
        return cls(points, box_fit(points, box), size=(box.width, box.height))

    def sized_like(self, box: FaceBox) -> FaceBox:
        """A detection's size at the track's (newer) position: what a confirming detection
        feeds the shape predictor, so the scale the tracking loop may have drifted to is reset
        every detection."""
        cx, cy = (self.box.left + self.box.right) / 2, (self.box.top + self.box.bottom) / 2
        half_w, half_h = box.width / 2, box.height / 2
        return FaceBox(cx - half_w, cy - half_h, cx + half_w, cy + half_h, box.score)

    def confirm(self, points: Points, box: FaceBox) -> None:
        """Re-anchor on a confirming detection: landmarks fitted in ``box`` (``sized_like``),
        misses reset, size anchored."""
        self.raw = self.points = points
        self.fit = box_fit(points, box)
        self.size = (box.width, box.height)
        self.misses = 0
        self.anchor = mesh.inter_ocular(points)
        self.template = None

    def plausible(self, gray: GrayImage, points: Points) -> bool:
        """Whether newly tracked landmarks still lie on the face the detector confirmed: the
        same size within ``DRIFT`` and the same look (``LIKENESS``)."""
        ratio = mesh.inter_ocular(points) / max(self.anchor, 1.0)
        if not 1.0 / DRIFT <= ratio <= DRIFT:
            return False
        patch = mesh.aligned_patch(gray, points)
        if self.template is None:
            self.template = mesh.aligned_patch(gray, self.raw)
        self.likeness = float(np.sum(patch * self.template))
        return self.likeness >= LIKENESS

    fade: float = 1.0
    """How much of the swap is shown: it falls over a few frames when the head turns further
    than the 68-point mesh can warp without shearing, and rises again after."""

    def turn(self, coverage: float) -> None:
        """Move ``fade`` a third of the way per frame towards what the head's turn allows:
        the share of the face the mesh can show (``mesh.coverage`` against the source's
        mesh), and the nose's position (``mesh.yaw``) as a backstop."""
        by_cover = (coverage - COVERAGE_LIMIT) / COVERAGE_FADE
        by_yaw = (YAW_LIMIT - abs(mesh.yaw(self.points))) / YAW_FADE
        allowed = float(np.clip(min(by_cover, by_yaw), 0.0, 1.0))
        step = float(np.clip(allowed - self.fade, -FADE_STEP, FADE_STEP))
        self.fade = float(np.clip(self.fade + step, 0.0, 1.0))

    @property
    def box(self) -> FaceBox:
        """The box for the shape predictor: placed from the eyes, sized by the detector."""
        placed = tracking_box(self.raw, self.fit)
        cx, cy = (placed.left + placed.right) / 2, (placed.top + placed.bottom) / 2
        half_w, half_h = self.size[0] / 2, self.size[1] / 2
        return FaceBox(cx - half_w, cy - half_h, cx + half_w, cy + half_h)


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
