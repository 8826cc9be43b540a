"""IO binding for the device path: onnxruntime-owned buffers, models bound once per set of
buffers, and compositing graphs that may be replayed as CUDA graphs (one fixed-shape session
per shape and set of buffers, with fallbacks when a provider refuses the capture)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vcamswap.inference.onnxgraph import Shape

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

    build: Callable[[Shape], bytes]
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
            log.warning("%s: CUDA graph capture failed (%s); running it without", self.what, exc)
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
