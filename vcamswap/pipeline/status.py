"""Status: a frozen snapshot of the pipeline, built from bounded, thread-safe counters."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

State = Literal["starting", "running", "paused", "degraded", "error", "stopped"]


@dataclass(frozen=True, slots=True)
class Status:
    """What the tray, the control API and ``bench`` show. Rates are per second over ~2 s."""

    state: State
    input_fps: float
    processed_fps: float
    output_fps: float
    frames_in: int
    frames_processed: int
    frames_out: int
    dropped: int
    resent: int
    processing_errors: int
    latency_ms_p50: float
    latency_ms_p95: float
    stages_ms: dict[str, float] = field(default_factory=dict)
    camera: str = ""
    output: str = ""
    last_error: str | None = None
    governor: dict[str, Any] = field(default_factory=dict)
    swapped_frames: int = 0
    """Frames in which at least one face was swapped."""
    faces_swapped: int = 0
    """Faces swapped over those frames."""
    guarded_frames: int = 0
    """Frames the privacy guard replaced (blur, freeze, placeholder) since the start."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100.0 * (len(ordered) - 1))))
    return ordered[index]


class _Rate:
    def __init__(self, window_s: float, samples: int) -> None:
        self._times: deque[float] = deque(maxlen=max(512, samples))
        self._window = window_s
        self.total = 0

    def tick(self, now: float) -> None:
        self._times.append(now)
        self.total += 1

    def per_second(self, now: float) -> float:
        recent = [t for t in self._times if now - t <= self._window]
        if len(recent) < 2:
            return 0.0
        span = recent[-1] - recent[0]
        return (len(recent) - 1) / span if span > 0 else 0.0


class PipelineStats:
    """Counters written by the three workers and read by ``Supervisor.status``. Every window is
    bounded (deque maxlen), so an all-day run holds constant memory."""

    def __init__(self, window_s: float = 2.0, samples: int = 600) -> None:
        self._lock = threading.Lock()
        self._rates = {
            name: _Rate(window_s, samples) for name in ("in", "processed", "out", "swapped")
        }
        self._latency: deque[float] = deque(maxlen=samples)
        self._stages: dict[str, deque[float]] = {}
        self._samples = samples
        self.dropped = 0
        self.resent = 0
        self.processing_errors = 0
        self.faces_swapped = 0
        self.guarded_frames = 0
        self._faces: deque[int] = deque(maxlen=samples)

    def tick(self, name: str, now: float | None = None) -> None:
        with self._lock:
            self._rates[name].tick(time.monotonic() if now is None else now)

    def add_dropped(self, count: int) -> None:
        with self._lock:
            self.dropped += count

    def add_resent(self) -> None:
        with self._lock:
            self.resent += 1

    def add_error(self) -> None:
        with self._lock:
            self.processing_errors += 1

    def add_swapped(self, faces: int, now: float | None = None) -> None:
        """A frame with ``faces`` swapped faces (ticks 'swapped' at the frame's time)."""
        with self._lock:
            self.faces_swapped += faces
            self._rates["swapped"].tick(time.monotonic() if now is None else now)
            self._faces.append(faces)

    @property
    def swapped_frames(self) -> int:
        """Frames with at least one swapped face since the start (the 'swapped' tick count)."""
        with self._lock:
            return self._rates["swapped"].total

    def add_guarded(self) -> None:
        with self._lock:
            self.guarded_frames += 1

    def record_latency(self, seconds: float) -> None:
        with self._lock:
            self._latency.append(seconds * 1000.0)

    def record_stage(self, stage: str, ms: float) -> None:
        with self._lock:
            window = self._stages.get(stage)
            if window is None:
                window = self._stages[stage] = deque(maxlen=self._samples)
            window.append(ms)

    def rate(self, name: str, now: float | None = None) -> float:
        """Ticks per second of ``name`` over the window (the camera's measured fps for 'in')."""
        with self._lock:
            return self._rates[name].per_second(time.monotonic() if now is None else now)

    def tick_times(self, name: str) -> list[float]:
        """The most recent tick times of ``name`` (bounded window)."""
        with self._lock:
            return list(self._rates[name]._times)

    def faces_per_swapped_frame(self) -> list[int]:
        """Faces swapped in each of the most recent swapped frames (bounded window)."""
        with self._lock:
            return list(self._faces)

    def latencies_ms(self) -> list[float]:
        with self._lock:
            return list(self._latency)

    def stage_samples(self) -> dict[str, list[float]]:
        with self._lock:
            return {name: list(values) for name, values in self._stages.items()}

    def snapshot(self, state: State, camera: str, output: str, last_error: str | None) -> Status:
        now = time.monotonic()
        with self._lock:
            latency = list(self._latency)
            stages = {k: percentile(list(v), 50) for k, v in self._stages.items()}
            return Status(
                state=state,
                input_fps=round(self._rates["in"].per_second(now), 2),
                processed_fps=round(self._rates["processed"].per_second(now), 2),
                output_fps=round(self._rates["out"].per_second(now), 2),
                frames_in=self._rates["in"].total,
                frames_processed=self._rates["processed"].total,
                frames_out=self._rates["out"].total,
                dropped=self.dropped,
                resent=self.resent,
                processing_errors=self.processing_errors,
                latency_ms_p50=round(percentile(latency, 50), 3),
                latency_ms_p95=round(percentile(latency, 95), 3),
                stages_ms={k: round(v, 3) for k, v in stages.items()},
                camera=camera,
                output=output,
                last_error=last_error,
                swapped_frames=self._rates["swapped"].total,
                faces_swapped=self.faces_swapped,
                guarded_frames=self.guarded_frames,
            )
