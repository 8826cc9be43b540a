"""onnxruntime sessions: providers chosen from the config and validated against what this
onnxruntime build offers, with a once-logged fallback, and a warm-up run at load."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vcamswap.errors import ModelError
from vcamswap.inference.providers import (
    GPU_PROVIDERS,
    gpu_fallback_message,
    preload_gpu_libraries,
    resolve_providers,
    without_tensorrt,
)

log = logging.getLogger(__name__)


class OrtSession(Protocol):
    """The part of onnxruntime.InferenceSession the model classes use (tests pass fakes)."""

    def run(self, output_names: Sequence[str] | None, input_feed: dict[str, Any]) -> list[Any]: ...

    def get_inputs(self) -> Sequence[Any]: ...

    def get_outputs(self) -> Sequence[Any]: ...

    def get_providers(self) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class SessionOptions:
    providers: tuple[str, ...] = ("auto",)
    trt_cache_dir: Path | None = None
    trt_fp16: bool = True
    cuda_graph: bool = False
    threads: int = 0
    spin: bool = True
    """onnxruntime's intra-op threads spin between runs (lowest latency alone on a machine);
    a model server sharing the CPU with other processes turns it off."""


class SessionFactory:
    """Creates sessions; call it on the inference thread. Logs the provider fallback once."""

    def __init__(self, options: SessionOptions = SessionOptions()) -> None:
        self._options = options
        self._warned = False
        self._gpu_prepared = False
        self._gpu_warned = False

    def create(
        self,
        path: Path | bytes,
        *,
        cuda_graph: bool = False,
        what: str = "model",
        tensorrt: bool = True,
    ) -> Any:
        """A session for a model file, or for serialized model bytes (``what`` in messages).
        ``tensorrt`` False: CUDA instead of TensorRT (our small compositing graphs gain
        nothing from engine builds, and TensorRT would split them around the ops it lacks)."""
        import onnxruntime as ort

        available = ort.get_available_providers()
        choice = resolve_providers(self._options.providers, available)
        if choice.warnings and not self._warned:
            for warning in choice.warnings:
                log.warning("%s; falling back to %s", warning, ", ".join(choice.providers))
            self._warned = True
        names = choice.providers if tensorrt else without_tensorrt(choice.providers, available)
        wanted_gpu = next((name for name in names if name in GPU_PROVIDERS), None)
        if wanted_gpu and not self._gpu_prepared:
            printed = preload_gpu_libraries(ort)
            if printed:
                log.debug("onnxruntime.preload_dlls: %s", printed)
            self._gpu_prepared = True
        # A CUDA graph needs every node on CUDA: not with TensorRT in front of it.
        graph = (
            cuda_graph or self._options.cuda_graph
        ) and "TensorrtExecutionProvider" not in names
        options = ort.SessionOptions()
        options.log_severity_level = 3  # inswapper's unused emap initializer warns otherwise
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if self._options.threads:
            options.intra_op_num_threads = self._options.threads
        if not self._options.spin:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        source = path if isinstance(path, bytes) else str(path)
        label = what if isinstance(path, bytes) else path.name
        try:
            try:
                session = ort.InferenceSession(
                    source, sess_options=options, providers=self._providers(names, graph)
                )
            except Exception as exc:
                if not graph:
                    raise
                # e.g. a node onnxruntime places off CUDA: the model runs, just not captured
                log.warning("%s: no CUDA graph (%s); running it without", label, exc)
                session = ort.InferenceSession(
                    source, sess_options=options, providers=self._providers(names, False)
                )
        except Exception as exc:
            if isinstance(path, bytes):
                raise ModelError(
                    f"onnxruntime could not build the {what} graph ({exc}); "
                    "set models.device_compositing: off"
                ) from exc
            raise ModelError(
                f"{path} could not be loaded by onnxruntime ({exc}); the file is "
                "corrupt or not an ONNX model: delete it and fetch it again"
            ) from exc
        got = session.get_providers()
        if wanted_gpu and wanted_gpu not in got and not self._gpu_warned:
            log.warning("%s", gpu_fallback_message(ort, wanted_gpu, got))
            self._gpu_warned = True
        log.info("loaded %s on %s", label, ", ".join(got))
        return session

    def _providers(self, names: Sequence[str], graph: bool) -> list[Any]:
        """onnxruntime's providers argument: TensorRT with its engine cache, CUDA replaying
        a captured graph when ``graph``."""
        providers: list[Any] = []
        for name in names:
            if name == "TensorrtExecutionProvider" and self._options.trt_cache_dir:
                self._options.trt_cache_dir.mkdir(parents=True, exist_ok=True)
                providers.append(
                    (
                        name,
                        {
                            "trt_engine_cache_enable": True,
                            "trt_engine_cache_path": str(self._options.trt_cache_dir),
                            "trt_fp16_enable": self._options.trt_fp16,
                        },
                    )
                )
            elif name == "CUDAExecutionProvider" and graph:
                providers.append((name, {"enable_cuda_graph": "1"}))
            else:
                providers.append(name)
        return providers


class DeferredSession:
    """A session made on its first ``run``; its inputs and outputs are read from ``like`` (a
    session of the same model) until then. For the host path beside a swapper that the device
    path replays as a CUDA graph: onnxruntime replays a captured graph on every later run of
    that session, whatever the feeds, so a second user needs its own session. The device path
    rarely falls back, so that session is made only when it does."""

    def __init__(self, like: Any, make: Callable[[], Any]) -> None:
        self._like = like
        self._make = make
        self._session: Any = None
        self._lock = threading.Lock()

    @property
    def made(self) -> bool:
        return self._session is not None

    def _real(self) -> Any:
        with self._lock:
            if self._session is None:
                log.info(
                    "making a session for the host path (the device path's one is "
                    "replayed as a CUDA graph)"
                )
                self._session = self._make()
            return self._session

    def run(self, output_names: Sequence[str] | None, input_feed: dict[str, Any]) -> list[Any]:
        result: list[Any] = self._real().run(output_names, input_feed)
        return result

    def io_binding(self) -> Any:
        return self._real().io_binding()

    def run_with_iobinding(self, binding: Any) -> None:
        self._real().run_with_iobinding(binding)

    def get_inputs(self) -> Sequence[Any]:
        inputs: Sequence[Any] = (self._session or self._like).get_inputs()
        return inputs

    def get_outputs(self) -> Sequence[Any]:
        outputs: Sequence[Any] = (self._session or self._like).get_outputs()
        return outputs

    def get_providers(self) -> list[str]:
        providers: list[str] = (self._session or self._like).get_providers()
        return providers


def check_signature(
    session: OrtSession, path: Path, inputs: Sequence[tuple[str, int]], outputs: int
) -> None:
    """ModelError unless the session has the expected inputs (name-agnostic: rank per input)
    and number of outputs."""
    got_in = session.get_inputs()
    got_out = session.get_outputs()
    if (
        len(got_in) != len(inputs)
        or len(got_out) != outputs
        or any(len(actual.shape) != rank for actual, (_, rank) in zip(got_in, inputs, strict=True))
    ):
        have = ", ".join(f"{i.name}{list(i.shape)}" for i in got_in)
        want = ", ".join(f"{name} (rank {rank})" for name, rank in inputs)
        raise ModelError(
            f"{path.name} does not have the expected signature: inputs {have}, "
            f"{len(got_out)} outputs; expected {want} and {outputs} outputs. "
            "Is it the right model for this slot?"
        )


def input_dtype(session: OrtSession, index: int = 0) -> type[np.floating[Any]]:
    """float16 for fp16-input models, else float32."""
    return dtype_of(session.get_inputs()[index])


def batches_like_single(session: OrtSession, rows: int = 2) -> bool:
    """Run ``rows`` different random inputs as one batch and one by one: True when every row
    of the batch matches its single run (a graph that mixes rows, or cannot take the batch,
    is False). Unknown dimensions other than the batch are taken as 64."""
    rng = np.random.default_rng(0)
    feeds = {}
    for arg in session.get_inputs():
        shape = [rows] + [d if isinstance(d, int) and d > 0 else 64 for d in arg.shape[1:]]
        feeds[arg.name] = rng.standard_normal(shape).astype(dtype_of(arg)) * 0.5
    try:
        batched = [np.asarray(o, np.float32) for o in session.run(None, feeds)]
        for row in range(rows):
            single = session.run(None, {k: v[row : row + 1] for k, v in feeds.items()})
            for whole, part in zip(batched, single, strict=True):
                part32 = np.asarray(part, np.float32)
                if whole.shape[0] != rows or not np.allclose(
                    whole[row : row + 1],
                    part32,
                    rtol=1e-2,
                    atol=1e-2 * (float(np.abs(part32).max()) + 1e-6),
                ):
                    return False
    except Exception:
        return False
    return True


def dtype_of(arg: Any) -> type[np.floating[Any]]:
    """float16 for a float16 model input or output (``session.get_inputs()[i]`` or
    ``get_outputs()[i]``), else float32."""
    return np.float16 if "float16" in str(arg.type) else np.float32


def fixed_batch(session: OrtSession) -> bool:
    """True when the first input's batch dimension is fixed at 1 (no batching)."""
    first = session.get_inputs()[0].shape[0]
    return isinstance(first, int) and first == 1


class BoundRunner:
    """Runs a session through IO binding with inputs and outputs preallocated on ``device``
    ('cuda' or 'cpu'), one buffer set per input shape. On CUDA this keeps the output on the GPU
    until it is read and gives CUDA graphs the fixed addresses they need; on CPU it is the same
    code path, so tests exercise it."""

    def __init__(
        self,
        session: Any,
        device: str = "cuda",
        device_id: int = 0,
        output_like_input: int | None = None,
    ) -> None:
        """``output_like_input``: the output has the shape and type of that input (inswapper),
        so it is allocated up front and never re-bound: a CUDA graph captured on the first run
        keeps pointing at the same buffers."""
        self._session = session
        self._device = device
        self._device_id = device_id
        self._output_like = output_like_input
        self._inputs = [i.name for i in session.get_inputs()]
        self._output = session.get_outputs()[0].name
        self._sets: dict[tuple[tuple[int, ...], ...], tuple[Any, list[Any], Any]] = {}

    def run(self, feeds: dict[str, np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
        import onnxruntime as ort

        key = tuple(feeds[name].shape for name in self._inputs)
        bound = self._sets.get(key)
        if bound is None:
            binding = self._session.io_binding()
            values = []
            for name in self._inputs:
                # Buffers owned by onnxruntime: a CPU OrtValue made from a numpy array would
                # only borrow the caller's memory.
                value = ort.OrtValue.ortvalue_from_shape_and_type(
                    feeds[name].shape, feeds[name].dtype, self._device, self._device_id
                )
                value.update_inplace(np.ascontiguousarray(feeds[name]))
                binding.bind_ortvalue_input(name, value)
                values.append(value)
            if self._output_like is not None:
                like = feeds[self._inputs[self._output_like]]
                shape, dtype = like.shape, like.dtype
            else:
                binding.bind_output(self._output, self._device, self._device_id)
                self._session.run_with_iobinding(binding)
                first = binding.get_outputs()[0]
                shape, dtype = first.shape(), first.numpy().dtype
            output = ort.OrtValue.ortvalue_from_shape_and_type(
                shape, dtype, self._device, self._device_id
            )
            binding.bind_ortvalue_output(self._output, output)
            bound = (binding, values, output)
            self._sets[key] = bound
        binding, values, output = bound
        for name, value in zip(self._inputs, values, strict=True):
            value.update_inplace(np.ascontiguousarray(feeds[name]))
        self._session.run_with_iobinding(binding)
        result: np.ndarray[Any, Any] = np.array(output.numpy(), copy=True)
        return result
