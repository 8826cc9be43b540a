"""The neural engine's face tracks: each detected face is matched to the track it continues,
and each track keeps its own state (a One-Euro filter on the five keypoints, its id for the
compositor's per-face mask and colour memory), so several faces never share a filter.

Why One-Euro rather than a fixed blend: SCRFD's keypoints jitter by a pixel or two on a still
face, which shows as a shimmering swap; a fixed low-pass that removes it lags a moving head by
several frames. The One-Euro cut-off rises with speed, so at rest the noise goes and in motion
the keypoints follow (tests/test_neural_quality.py measures both on talking-speed motion)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

import numpy as np

from vcamswap.ports import DetectedFace
from vcamswap.processors.smoothing import OneEuroSettings, PointsFilter

KEYPOINT_FILTER = OneEuroSettings(min_cutoff=0.5, beta=4.0, derivative_cutoff=1.0)
"""Tuned on keypoint sequences with talking-speed motion and SCRFD-like noise: jitter down by
more than 2x, lag under one frame (tests/test_neural_quality.py)."""
MATCH_FRACTION = 0.6
"""A detection continues a track when its keypoints moved less than this share of the face's
width since the track's last detection; farther away it is a new face."""


@dataclass(slots=True)
class Track:
    ident: int
    face: DetectedFace
    smooth: PointsFilter = field(default_factory=lambda: PointsFilter(KEYPOINT_FILTER))


class FaceTracks:
    """Tracks for one engine instance (the inference thread's). ``update`` takes a detection's
    faces (largest first) and returns them continued or new, keypoints filtered."""

    def __init__(self, smoothing: bool = True) -> None:
        self._smoothing = smoothing
        self._tracks: list[Track] = []
        self._ids = count(1)

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(t.ident for t in self._tracks)

    def clear(self) -> None:
        self._tracks = []

    def update(self, found: list[DetectedFace], now: float | None) -> list[DetectedFace]:
        free = list(self._tracks)
        tracks: list[Track] = []
        for face in found:
            width = max(face.box.width, 1.0)
            best = min(
                free,
                key=lambda t: float(np.abs(t.face.kps - face.kps).mean()),
                default=None,
            )
            if best is not None and (
                float(np.abs(best.face.kps - face.kps).mean()) < MATCH_FRACTION * width
            ):
                free.remove(best)
                track = best
            else:
                track = Track(next(self._ids), face)
            kps = face.kps.astype(np.float32)
            if self._smoothing:
                kps = track.smooth(kps, now, width)
            track.face = DetectedFace(face.box, kps)
            tracks.append(track)
        self._tracks = tracks
        return [t.face for t in tracks]
