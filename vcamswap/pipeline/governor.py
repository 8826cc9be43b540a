"""Adaptive quality governor: hold the camera's frame rate by stepping down a per-engine ladder
when processing cannot keep up, and back up when there is headroom.

Pure logic with the time passed in; the inference worker feeds it one sample per processed frame
and applies a new level to the processor on its own thread.

- Down: the mean processing time over ``window_s`` exceeds the frame budget (1/camera fps).
- Up: the cost of the better level, estimated from the current cost times the ratio measured
  the last time the governor crossed that step, fits in 80% of the budget. Using a ratio
  measured across the step (not a stale absolute cost) lets it climb back when the load drops
  (fewer faces, the other app closed) and never climb under the same load that pushed it down.
- Hysteresis: every change waits a full window of fresh samples; a step up that has to be undone
  doubles the wait before the next step up (up to ``max_up_wait_s``), so a load on the edge
  causes a bounded number of changes.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Mode = Literal["auto", "off", "pinned"]

DOWN_AT = 1.0  # mean cost above this share of the budget: step down
UP_BELOW = 0.8  # estimated cost of the better level below this share: step up
DEFAULT_STEP_RATIO = 1.5
MAX_STEP_RATIO = 3.0
REMOTE_SHARE = 0.5  # remote wait at least this share of an over-budget cost: the server holds
"""A ratio measured while the load itself changed can be wildly off; capped, one wrong step up
at most follows, and the step up measures the true ratio again."""


@dataclass(frozen=True, slots=True)
class GovernorView:
    """What Status, `ctl status`, the tray and the preview show."""

    mode: Mode
    level: int
    name: str
    reason: str
    levels: tuple[str, ...]
    changes: int
    remote_bound: str | None = None
    """Why the frame rate is held by a remote model server (local quality is not stepped down
    for it), or None."""

    def to_dict(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "level": self.level,
            "name": self.name,
            "reason": self.reason,
            "levels": list(self.levels),
            "changes": self.changes,
            "remote_bound": self.remote_bound,
        }


class QualityGovernor:
    def __init__(
        self,
        levels: Sequence[str] = ("full quality",),
        *,
        window_s: float = 2.0,
        mode: Mode = "auto",
        pin: int = 0,
        max_up_wait_s: float = 60.0,
    ) -> None:
        self._lock = threading.Lock()
        self._window = window_s
        self._max_up_wait = max_up_wait_s
        self._mode: Mode = mode
        self._pin = pin
        self._levels: tuple[str, ...] = tuple(levels) or ("full quality",)
        self._reset()

    def _reset(self) -> None:
        self._level = 0
        self._samples: deque[tuple[float, float, float]] = deque(maxlen=4096)
        self._remote_bound: str | None = None
        self._changed_at: float | None = None
        self._step_ratio: dict[int, float] = {}  # cost(L) / cost(L+1), measured across a step
        self._crossing: tuple[int, float] | None = None  # (level left, its cost)
        self._up_wait = self._window * 2
        self._last_up_at: float | None = None
        self._changes = 0
        self._reason = "full quality"

    # -- settings, from any thread ------------------------------------------------------------

    def set_levels(self, levels: Sequence[str]) -> None:
        """A new processor (hot reload): its ladder, starting at full quality."""
        with self._lock:
            self._levels = tuple(levels) or ("full quality",)
            self._reset()

    def set_mode(self, mode: Mode, pin: int = 0) -> None:
        with self._lock:
            self._mode = mode
            self._pin = max(0, min(pin, len(self._levels) - 1))
            self._samples.clear()
            self._changed_at = None

    def view(self) -> GovernorView:
        with self._lock:
            return GovernorView(
                self._mode,
                self._level,
                self._levels[self._level],
                self._reason,
                self._levels,
                self._changes,
                self._remote_bound,
            )

    # -- the inference thread -----------------------------------------------------------------

    def observe(
        self, now: float, cost_ms: float, target_fps: float, remote_ms: float = 0.0
    ) -> int | None:
        """One processed frame took ``cost_ms``, ``remote_ms`` of it waiting on a remote model
        server; returns the new level when it changes. When the remote wait is most of an
        over-budget cost, stepping local quality down would not help: the level stays and the
        view says the server holds the rate."""
        with self._lock:
            if self._mode == "off":
                return self._set(now, 0, "governor off") if self._level else None
            if self._mode == "pinned":
                pin = min(self._pin, len(self._levels) - 1)
                return self._set(now, pin, "pinned by you") if self._level != pin else None
            if self._changed_at is None:
                self._changed_at = now
            self._samples.append((now, cost_ms, remote_ms))
            while self._samples and now - self._samples[0][0] > self._window:
                self._samples.popleft()
            if target_fps <= 0 or now - self._changed_at < self._window or len(self._samples) < 3:
                return None
            cost = sum(ms for _, ms, _r in self._samples) / len(self._samples)
            remote = sum(r for _, _ms, r in self._samples) / len(self._samples)
            budget = 1000.0 / target_fps
            self._learn(cost)
            if cost > budget * DOWN_AT and remote >= REMOTE_SHARE * cost:
                self._remote_bound = (
                    f"the remote model server takes {remote:.0f} of "
                    f"{cost:.0f} ms per frame (budget {budget:.0f} ms): "
                    "local quality is kept; the server is the limit"
                )
                self._reason = self._remote_bound
                return None
            self._remote_bound = None
            if cost > budget * DOWN_AT and self._level < len(self._levels) - 1:
                if self._last_up_at is not None and now - self._last_up_at < 3 * self._window:
                    self._up_wait = min(self._max_up_wait, self._up_wait * 2)
                self._crossing = (self._level, cost)
                return self._set(
                    now,
                    self._level + 1,
                    f"{cost:.0f} ms per frame over the {budget:.0f} ms budget of "
                    f"{target_fps:.0f} fps",
                )
            if self._level > 0 and now - self._changed_at >= self._up_wait:
                ratio = min(
                    MAX_STEP_RATIO, self._step_ratio.get(self._level - 1, DEFAULT_STEP_RATIO)
                )
                estimate = cost * ratio
                if estimate < budget * UP_BELOW:
                    self._crossing = (self._level, cost)
                    self._last_up_at = now
                    return self._set(
                        now,
                        self._level - 1,
                        f"headroom: about {estimate:.0f} ms of the {budget:.0f} ms budget",
                    )
            if self._level == 0:
                self._reason = f"full quality ({cost:.0f} of {budget:.0f} ms)"
            return None

    def _learn(self, cost: float) -> None:
        """The first full window after a step measures the step's cost ratio."""
        if self._crossing is None or cost <= 0:
            return
        left, left_cost = self._crossing
        self._crossing = None
        if left < self._level:  # stepped down: ratio = cost(left) / cost(now)
            self._step_ratio[left] = max(1.0, left_cost / cost)
        elif left > self._level:  # stepped up: ratio = cost(now) / cost(left)
            self._step_ratio[self._level] = max(1.0, cost / left_cost)

    def _set(self, now: float, level: int, reason: str) -> int:
        self._level = level
        self._reason = reason
        self._changed_at = now
        self._samples.clear()
        self._changes += 1
        return level
