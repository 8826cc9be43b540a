"""`vcamswap serve`: a real Triton Inference Server on this machine (the binary inside the
nvidia-pytriton wheel), serving the local ONNX models on onnxruntime with dynamic batching.

Runs in its own environment (extra `serve`): PyTriton's python backend needs numpy < 2. Nothing
here imports OpenCV, dlib or PyAV, so that environment stays small.

Served per model file found in ``--models`` (catalog file names): one Triton model named after
the catalog entry, its inputs and outputs as in the ONNX file with the batch dimension moved to
Triton's ``max_batch_size``; models whose ONNX batch is fixed at 1 get each batch row run in
turn (Triton still queues and batches the requests). For a swapper, a companion model
``<name>_emap`` returns its 512x512 ``emap`` so clients need not have the 554 MB file.
"""

from __future__ import annotations

import logging
import os
import sys
import sysconfig
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vcamswap.errors import ModelError, VCamSwapError
from vcamswap.inference.catalog import CATALOG, ModelSpec
from vcamswap.inference.onnxfile import read_emap
from vcamswap.inference.remote import EMAP_SUFFIX, LOOPBACK

log = logging.getLogger(__name__)
MAX_BATCH = 8
QUEUE_DELAY_US = 0
"""Measured on loopback: a 2 ms delay added ~2 ms to every lone request, and 8 streams batch
anyway (requests queue while the instance is busy), so the default does not wait."""


@dataclass(frozen=True, slots=True)
class TensorSpec:
    name: str
    dtype: type[np.generic]
    shape: tuple[int, ...]  # without the batch dimension; -1 = any


@dataclass(frozen=True, slots=True)
class ServedModel:
    name: str
    path: Path
    spec: ModelSpec
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    fixed_batch: bool
    """The ONNX batch is 1: batch rows run in turn."""
    batchable: bool
    """Outputs are batch-major, so Triton may batch requests. SCRFD's outputs are anchors x
    values for one image: served unbatched (max_batch_size 0), full shapes."""


_ORT_DTYPES: dict[str, type[np.generic]] = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
}


def _tensor(arg: Any, skip_batch: bool = True) -> TensorSpec:
    dims = tuple(
        d if isinstance(d, int) and d > 0 else -1
        for d in (arg.shape[1:] if skip_batch else arg.shape)
    )
    dtype = _ORT_DTYPES.get(arg.type)
    if dtype is None:
        raise ModelError(f"tensor {arg.name} has type {arg.type}, which cannot be served")
    return TensorSpec(arg.name, dtype, dims)


def find_models(folder: Path) -> list[tuple[ModelSpec, Path]]:
    """Catalog models whose file is in ``folder`` (names as `vcamswap models fetch` writes)."""
    found = [
        (spec, folder / spec.file)
        for spec in CATALOG.values()
        if (folder / spec.file).is_file() and spec.role != "content"
    ]
    if not found:
        raise VCamSwapError(
            f"no model files in {folder}: expected catalog file names such as "
            f"{', '.join(s.file for s in list(CATALOG.values())[:3])} (`vcamswap "
            "models fetch --dir DIR`, or benchmarks/make_models.py for test models)"
        )
    return found


def describe(session: Any, spec: ModelSpec, path: Path) -> ServedModel:
    first = session.get_inputs()[0].shape[0]
    fixed = isinstance(first, int) and first == 1
    outputs_first = [a.shape[0] if a.shape else None for a in session.get_outputs()]
    # Batch-major outputs: a symbolic first dim on a dynamic-batch model, or 1 on a fixed one.
    batchable = all((o == 1) if fixed else not isinstance(o, int) for o in outputs_first)
    return ServedModel(
        spec.name,
        path,
        spec,
        tuple(_tensor(a, batchable) for a in session.get_inputs()),
        tuple(_tensor(a, batchable) for a in session.get_outputs()),
        fixed,
        batchable,
    )


def infer_function(session: Any, model: ServedModel) -> Callable[..., dict[str, np.ndarray]]:
    """The batch function: inputs as [B, ...] arrays, outputs as [B, ...] arrays."""
    names = [t.name for t in model.outputs]

    def infer(**inputs: np.ndarray) -> dict[str, np.ndarray]:
        feeds = {t.name: np.ascontiguousarray(inputs[t.name], dtype=t.dtype) for t in model.inputs}
        if not model.batchable:
            return dict(zip(names, session.run(names, feeds), strict=True))
        if model.fixed_batch:
            rows = len(next(iter(feeds.values())))
            parts = [
                session.run(names, {k: v[i : i + 1] for k, v in feeds.items()}) for i in range(rows)
            ]
            return {n: np.concatenate([p[j] for p in parts]) for j, n in enumerate(names)}
        results = session.run(names, feeds)
        return dict(zip(names, results, strict=True))

    return infer


def _unbatched(infer: Callable[..., dict[str, np.ndarray]]) -> Callable[[Any], list[Any]]:
    """PyTriton's request-list interface for a model served without batching."""

    def run(requests: Any) -> list[Any]:
        return [infer(**{name: request[name] for name in request}) for request in requests]

    return run


def _stop_on_signals() -> threading.Event:
    """SIGTERM (systemd, `kill`) and SIGINT set an event the serving loop watches; leaving the
    ``with Triton()`` block then stops tritonserver and its stubs. With Python's default SIGTERM
    handler the process died at once and left tritonserver running, holding the ports; raising
    KeyboardInterrupt from the handler hung PyTriton's shutdown (measured)."""
    import signal

    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("%s: stopping the model server", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop


def fix_stub_library_path() -> None:
    """The python backend's stub links libpython: point it at this interpreter's library
    (a pyenv or venv Python is not the system one, whose libpython the stub would load)."""
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir and Path(libdir).is_dir():
        current = os.environ.get("LD_LIBRARY_PATH", "")
        if libdir not in current.split(os.pathsep):
            os.environ["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (libdir, current) if p)


def check_environment() -> None:
    if int(np.__version__.split(".")[0]) >= 2:
        raise VCamSwapError(
            f"`vcamswap serve` needs numpy < 2 (Triton's python backend returns empty outputs "
            f"with numpy {np.__version__}): run it from its own environment, e.g. `python3 -m "
            "venv .venv-serve && .venv-serve/bin/pip install -e '.[serve]'`"
        )
    try:
        import pytriton  # noqa: F401
    except ImportError as exc:
        raise VCamSwapError(
            "`vcamswap serve` needs PyTriton: pip install -e '.[serve]' (in "
            "an environment with numpy < 2)"
        ) from exc


def serve(  # noqa: PLR0913 - CLI options
    folder: Path,
    host: str = "0.0.0.0",
    grpc_port: int = 8001,
    http_port: int = 8000,
    metrics_port: int = 8002,
    providers: Sequence[str] = ("auto",),
    max_batch: int = MAX_BATCH,
    ready: Callable[[list[str]], None] | None = None,
    queue_delay_us: int = QUEUE_DELAY_US,
    spin: bool = False,
) -> None:
    """Load every model in ``folder`` and serve until SIGINT/SIGTERM."""
    check_environment()
    fix_stub_library_path()
    stop = _stop_on_signals()
    from pytriton.model_config import DynamicBatcher, ModelConfig, Tensor
    from pytriton.triton import Triton, TritonConfig, TritonSecurityConfig

    from vcamswap.inference.session import SessionFactory, SessionOptions

    factory = SessionFactory(SessionOptions(providers=tuple(providers), spin=spin))
    config = TritonConfig(
        grpc_address=host,
        grpc_port=grpc_port,
        http_address=host,
        http_port=http_port,
        metrics_port=metrics_port,
        log_verbose=0,
    )
    names: list[str] = []
    # Model loading, shared memory, tracing and logging stay behind PyTriton's random token;
    # read-only statistics are open so clients can show batching (`vcamswap bench --remote`).
    security = TritonSecurityConfig(
        restricted_endpoints=["shared-memory", "model-repository", "trace", "logging"]
    )
    with Triton(config=config, security_config=security) as triton:
        for spec, path in find_models(folder):
            session = factory.create(path)
            model = describe(session, spec, path)
            from pytriton.decorators import batch

            infer = infer_function(session, model)
            triton.bind(
                model_name=model.name,
                infer_func=batch(infer) if model.batchable else _unbatched(infer),
                inputs=[Tensor(name=t.name, dtype=t.dtype, shape=t.shape) for t in model.inputs],
                outputs=[Tensor(name=t.name, dtype=t.dtype, shape=t.shape) for t in model.outputs],
                config=ModelConfig(
                    max_batch_size=max_batch,
                    batcher=DynamicBatcher(max_queue_delay_microseconds=queue_delay_us),
                )
                if model.batchable
                else ModelConfig(batching=False),
                strict=True,
            )
            names.append(model.name)
            if spec.role == "swapper":
                emap = read_emap(path).astype(np.float32)

                def give_emap(requests: Any, emap: np.ndarray = emap) -> Any:
                    return [{"emap": emap} for _ in requests]

                triton.bind(
                    model_name=model.name + EMAP_SUFFIX,
                    infer_func=give_emap,
                    inputs=[Tensor(name="index", dtype=np.int32, shape=(1,))],
                    outputs=[Tensor(name="emap", dtype=np.float32, shape=(512, 512))],
                    config=ModelConfig(batching=False),
                )
                names.append(model.name + EMAP_SUFFIX)
            log.info(
                "serving %s (%s, batch %s) on %s",
                model.name,
                path.name,
                "none"
                if not model.batchable
                else "1 per run"
                if model.fixed_batch
                else f"up to {max_batch}",
                ", ".join(session.get_providers()),
            )
        triton.connect()
        log.info("Triton serving %s on grpc://%s:%d", ", ".join(names), host, grpc_port)
        if host not in LOOPBACK:
            log.warning(
                "the server listens on %s without TLS: use it on a private network, "
                "or put it behind a TLS proxy (clients: grpcs://)",
                host,
            )
        if ready is not None:
            ready(names)
        sys.stdout.flush()
        while not stop.wait(1.0):
            if not triton.is_alive():
                raise VCamSwapError("tritonserver stopped unexpectedly; see the log above")
