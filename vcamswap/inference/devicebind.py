"""IO binding for the device path: onnxruntime-owned buffers, models bound once per set of
buffers, and compositing graphs that may be replayed as CUDA graphs (one fixed-shape session
per shape and set of buffers, with fallbacks when a provider refuses the capture)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vcamswap.inference import devicegraphs

SessionMaker = Callable[[bytes, str, bool], Any]
"""Creates an onnxruntime session from model bytes with the models' providers: (bytes, name for
log lines, replay as a CUDA graph)."""

log = logging.getLogger(__name__)
CAPTURE_RUNS = 3
"""Runs of a new captured graph during which a failure falls back to the plain graph."""


def buffer(shape: tuple[int, ...], dtype: Any, device: str, device_id: int) -> Any:
    """An onnxruntime-owned tensor on ``device`` ('cuda' or 'cpu')."""
    import onnxruntime as ort

    return ort.OrtValue.ortvalue_from_shape_and_type(list(shape), dtype, device, device_id)


def bind(session: Any, values: list[Any]) -> Any:
    binding = session.io_binding()
    inputs = [i.name for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    for index, (name, value) in enumerate(zip(inputs + outputs, values, strict=True)):
        if index < len(inputs):
            binding.bind_ortvalue_input(name, value)
        else:
            binding.bind_ortvalue_output(name, value)
    return binding


@dataclass
class Model:
    """A model session and its IO bindings, one per set of buffers."""

    session: Any
    bindings: dict[tuple[int, ...], Any] = field(default_factory=dict)

    def run(self, values: list[Any]) -> None:
        key = tuple(id(v) for v in values)
        binding = self.bindings.get(key)
        if binding is None:
            binding = self.bindings[key] = bind(self.session, values)
        self.session.run_with_iobinding(binding)


@dataclass
class Graph:
    """A compositing graph. Plain: one session for any frame size and face count. Captured:
    one session per shape and set of buffers, built with fixed shapes (onnxruntime folds the
    shape arithmetic away) and replayed as a CUDA graph, which needs fixed addresses."""

    build: Callable[[devicegraphs.Shape], bytes]
    make: SessionMaker
    what: str
    captured: bool
    entries: dict[tuple[Any, ...], tuple[Any, Any]] = field(default_factory=dict)
    plain: Any = None
    trials: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def run(self, shape: tuple[int, int, int], values: list[Any]) -> None:
        ids = tuple(id(v) for v in values)
        key = (shape, ids) if self.captured else ids
        entry = self.entries.get(key)
        if entry is None:
            session = self._session(shape)
            entry = self.entries[key] = (session, bind(session, values))
            if self.captured:
                self.trials[key] = CAPTURE_RUNS
        if key not in self.trials:
            entry[0].run_with_iobinding(entry[1])
            return
        # onnxruntime captures on one of the first runs; a capture that fails there costs
        # this graph its CUDA graphs, not the device path
        try:
            entry[0].run_with_iobinding(entry[1])
        except Exception as exc:
            log.warning("%s: CUDA graph capture failed (%s); running it without", self.what,
                        exc)
            self.captured = False
            self.forget()
            self.run(shape, values)
            return
        self.trials[key] -= 1
        if not self.trials[key]:
            del self.trials[key]

    def forget(self) -> None:
        """Drop the bindings (and the fixed-shape sessions); the plain session stays."""
        self.entries.clear()
        self.trials.clear()

    def _session(self, shape: tuple[int, int, int]) -> Any:
        if self.captured:
            try:
                return self.make(self.build(shape), self.what, True)
            except Exception as exc:  # e.g. a node this provider cannot capture
                log.warning("%s: no CUDA graph (%s); running it without", self.what, exc)
                self.captured = False
        if self.plain is None:
            self.plain = self.make(self.build(None), self.what, False)
        return self.plain


WINDOW_SIDES = (128, 192, 256, 384, 512, 768, 1024, 1536, 2048)
"""Square window sides: each window size needs its own buffers (and, with CUDA graphs, its
own sessions), so a face that changes size moves through a few of them, not one per pixel."""


def frame_window(footprints: Sequence[tuple[Any, int]], frame_hw: tuple[int, int],
                 keep: int | None = None) -> tuple[tuple[int, int] | None, tuple[int, int], int]:
    """The part of the frame the device path needs for ``footprints`` (crop pixel -> frame
    pixel matrix, crop size): (rows and columns, or None for the whole frame; top and left;
    the side chosen, to pass back as ``keep``). It holds every frame pixel whose crop
    coordinate is in [-1, size), all that bilinear sampling reads from or writes to, with a
    pixel to spare; ``keep`` (the last side) stays while it holds them and is at most twice
    the side they need, so a face that moves a little keeps its buffers and graphs."""
    h, w = frame_hw
    if not footprints:
        return None, (0, 0), keep or max(h, w)
    points = np.concatenate([
        np.array([[-1, -1, 1], [size, -1, 1], [-1, size, 1], [size, size, 1]], np.float64)
        @ np.asarray(inverse, np.float64).T for inverse, size in footprints])
    top = max(int(np.floor(points[:, 1].min())) - 1, 0)
    left = max(int(np.floor(points[:, 0].min())) - 1, 0)
    bottom = min(int(np.ceil(points[:, 1].max())) + 2, h)
    right = min(int(np.ceil(points[:, 0].max())) + 2, w)
    need = max(bottom - top, right - left, 1)
    side = next((s for s in WINDOW_SIDES if s >= need), max(h, w))
    if keep is not None and need <= keep <= 2 * side:
        side = keep
    rows, cols = min(side, h), min(side, w)
    if (rows, cols) == (h, w):
        return None, (0, 0), side
    y0 = min(max(top - (rows - (bottom - top)) // 2, 0), h - rows)
    x0 = min(max(left - (cols - (right - left)) // 2, 0), w - cols)
    return (rows, cols), (y0, x0), side
