"""Landmark smoothing over time: a One-Euro filter (Casiez, Roussel and Vogel, CHI 2012) on a
whole set of points.

A fixed low-pass either lags a moving head or lets a still one jitter. The One-Euro filter's
cut-off frequency rises with the speed of the signal: at rest it smooths hard (the detector's
pixel noise goes), in motion it follows at once. Speed here is the mean speed of all points in
face widths (inter-ocular distances) per second, so one setting works for a face 60 or 600
pixels wide, and all points share one cut-off so the face moves as one."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vcamswap.types import Points

DEFAULT_DT = 1.0 / 30.0


def _alpha(cutoff_hz: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


@dataclass(frozen=True, slots=True)
class OneEuroSettings:
    min_cutoff: float = 1.2
    """Hz at rest: lower is steadier."""
    beta: float = 4.0
    """How fast the cut-off rises with speed (per face width per second)."""
    derivative_cutoff: float = 1.0
    """Hz of the low-pass on the speed estimate."""


class PointsFilter:
    """One-Euro filter over an Nx2 point set; ``reset`` when the face is found anew."""

    def __init__(self, settings: OneEuroSettings = OneEuroSettings()) -> None:
        self._settings = settings
        self._value: Points | None = None
        self._speed = 0.0
        self._time: float | None = None

    def reset(self) -> None:
        self._value = None
        self._speed = 0.0
        self._time = None

    def __call__(self, points: Points, now: float | None, scale: float) -> Points:
        """The filtered points for ``points`` measured at ``now`` (seconds; None: one frame at
        30 fps after the last); ``scale`` is the face's size in pixels."""
        previous = self._value
        if previous is None or previous.shape != points.shape:
            self._value, self._time, self._speed = points.astype(np.float32), now, 0.0
            return self._value
        dt = DEFAULT_DT
        if now is not None and self._time is not None and now > self._time:
            dt = min(now - self._time, 0.5)
        self._time = now
        s = self._settings
        raw_speed = float(np.linalg.norm(points - previous, axis=1).mean()) / max(scale, 1.0) / dt
        a_d = _alpha(s.derivative_cutoff, dt)
        self._speed = a_d * raw_speed + (1.0 - a_d) * self._speed
        a = _alpha(s.min_cutoff + s.beta * self._speed, dt)
        value = (previous + a * (points - previous)).astype(np.float32)
        self._value = value
        return value
