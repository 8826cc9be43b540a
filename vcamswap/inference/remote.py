"""Remote inference on Triton Inference Server (KServe v2 over gRPC): ``TritonSession`` has the
onnxruntime session's seam (``run``, ``get_inputs``, ``get_outputs``, ``get_providers``), so the
model classes run unchanged locally or remotely.

At connect: server live, model ready, and its metadata checked against what the catalog slot
needs. A request carries the served dtype (fp16 where the served model is fp16) and no more. A
failed or slow request raises ``RemoteUnavailableError`` at once, and for a backoff period
(0.5 s doubling to 10 s) requests fail without touching the network, so a lost server never
stalls the camera; the first request after the backoff reconnects.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from vcamswap.errors import DegradedError, ModelError
from vcamswap.inference.catalog import ModelSpec

log = logging.getLogger(__name__)
EMAP_SUFFIX = "_emap"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_NP = {"FP32": np.float32, "FP16": np.float16, "INT32": np.int32, "INT64": np.int64}
_ORT_TYPE = {
    "FP32": "tensor(float)",
    "FP16": "tensor(float16)",
    "INT32": "tensor(int32)",
    "INT64": "tensor(int64)",
}


class RemoteUnavailableError(DegradedError):
    """The model server did not answer in time; the frame goes through the failure policy."""


@dataclass(frozen=True, slots=True)
class RemoteArg:
    """What onnxruntime's NodeArg offers the model classes: name, shape, type."""

    name: str
    shape: list[int | str]
    type: str
    datatype: str


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    tls: bool

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{'grpcs' if self.tls else 'grpc'}://{self.address}"


def parse_url(url: str) -> Endpoint:
    parts = urlsplit(url if "://" in url else f"grpc://{url}")
    if parts.scheme not in ("grpc", "grpcs") or not parts.hostname:
        raise ModelError(
            f"models.remote.url {url!r}: use grpc://HOST:PORT or grpcs://HOST:PORT "
            "(Triton's gRPC port, 8001 by default)"
        )
    return Endpoint(parts.hostname, parts.port or 8001, parts.scheme == "grpcs")


# What each catalog role needs: per input (rank, trailing dims; -1 = any), number of outputs.
SIGNATURES: dict[str, tuple[list[tuple[int, tuple[int, ...]]], int]] = {
    "detector": ([(4, (3, -1, -1))], 9),
    "embedder": ([(4, (3, 112, 112))], 1),
    "swapper": ([(4, (3, 128, 128)), (2, (512,))], 1),
    "enhancer": ([(4, (3, 512, 512))], 1),
}


def signature_fits(spec: ModelSpec, shapes: Sequence[Sequence[int]], outputs: int) -> bool:
    """Whether a served model's input shapes (-1 for a dynamic dimension) and output count fit
    ``spec``'s slot. A swapper's crop side is its catalog size (128, GHOST's 256) and its two
    inputs may come in either order (the published GHOST lists the identity first)."""
    want_inputs, want_outputs = SIGNATURES[spec.role]
    if spec.role == "swapper":
        size = spec.input_size
        want_inputs = [(4, (3, size, size)), (2, (512,))]
        shapes = sorted(shapes, key=len, reverse=True)
    return (
        len(shapes) == len(want_inputs)
        and outputs == want_outputs
        and all(
            _matches(shape, rank, tail)
            for shape, (rank, tail) in zip(shapes, want_inputs, strict=True)
        )
    )


def _matches(shape: Sequence[int], rank: int, trailing: tuple[int, ...]) -> bool:
    if len(shape) != rank:
        return False
    tail = list(shape)[rank - len(trailing) :]
    return all(want == -1 or got in (-1, want) for got, want in zip(tail, trailing, strict=True))


class WaitMeter:
    """Seconds spent waiting on the server, summed over every session; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0.0

    def add(self, seconds: float) -> None:
        with self._lock:
            self._total += seconds

    def total(self) -> float:
        with self._lock:
            return self._total


class RemoteModels:
    """One connection to a Triton server; hands out a TritonSession per model. ``waited``
    sums the time every session spent in calls (the quality governor tells a slow server
    from a slow machine by it)."""

    def __init__(
        self,
        url: str,
        *,
        ca_file: Path | None = None,
        timeout_s: float = 0.5,
        names: dict[str, str] | None = None,
        client_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.endpoint = parse_url(url)
        self.timeout_s = timeout_s
        self.waited = WaitMeter()
        self._names = names or {}
        if not self.endpoint.tls and self.endpoint.host not in LOOPBACK:
            log.warning(
                "remote inference over plaintext gRPC to %s: face crops cross the "
                "network unencrypted; use grpcs:// with models.remote.ca_file (a TLS "
                "proxy or Triton's --grpc-use-ssl) or a private network",
                self.endpoint.host,
            )
        if client_factory is None:
            try:
                import tritonclient.grpc as grpcclient
            except ImportError as exc:
                raise ModelError(
                    "remote inference needs the Triton client: pip install 'vcamswap[remote]'"
                ) from exc
            client_factory = grpcclient.InferenceServerClient
        if ca_file is not None and not ca_file.is_file():
            raise ModelError(
                f"models.remote.ca_file {ca_file} does not exist: give the CA "
                "certificate (PEM) that signed the server's certificate"
            )
        kwargs: dict[str, Any] = {"url": self.endpoint.address}
        if self.endpoint.tls:
            kwargs.update(ssl=True, root_certificates=str(ca_file) if ca_file else None)
        self._client = client_factory(**kwargs)

    def served_name(self, spec: ModelSpec) -> str:
        return self._names.get(spec.name, spec.name)

    def _fail(self, model: str, problem: str, fix: str) -> ModelError:
        return ModelError(
            f"remote model server {self.endpoint}, model {model!r}: {problem}. Fix: {fix}"
        )

    def check_live(self) -> None:
        try:
            live = self._client.is_server_live(client_timeout=max(self.timeout_s, 2.0))
        except Exception as exc:
            raise self._fail(
                "-",
                f"unreachable ({_short(exc)})",
                "start it (`vcamswap serve --models DIR` on the GPU machine, or "
                "NVIDIA's Triton container) and check models.remote.url",
            ) from exc
        if not live:
            raise self._fail("-", "the server is not live", "check its log")

    def session(self, spec: ModelSpec) -> TritonSession:
        """A checked session for ``spec`` (ModelError naming server, model and fix)."""
        self.check_live()
        name = self.served_name(spec)
        try:
            ready = self._client.is_model_ready(name, client_timeout=max(self.timeout_s, 2.0))
        except Exception as exc:
            raise self._fail(
                name, f"cannot ask for it ({_short(exc)})", "check the server"
            ) from exc
        if not ready:
            raise self._fail(
                name,
                "not served or not ready",
                f"serve {spec.file} under the name {name!r} (`vcamswap serve "
                "--models DIR` serves catalog file names), or map it in "
                "models.remote.names",
            )
        meta = self._client.get_model_metadata(name, as_json=True)
        inputs = [_arg(m) for m in meta.get("inputs", [])]
        outputs = [_arg(m) for m in meta.get("outputs", [])]
        want_inputs, want_outputs = SIGNATURES[spec.role]
        if spec.role == "swapper":
            want_inputs = [(4, (3, spec.input_size, spec.input_size)), (2, (512,))]
        shapes = [[d if isinstance(d, int) else -1 for d in i.shape] for i in inputs]
        if not signature_fits(spec, shapes, len(outputs)):
            have = ", ".join(f"{i.name}{i.shape} {i.datatype}" for i in inputs)
            want = ", ".join(f"rank {r} ending {list(t)}" for r, t in want_inputs)
            raise self._fail(
                name,
                f"its signature does not fit the {spec.role} slot: inputs "
                f"{have}, {len(outputs)} output(s); expected {want} and "
                f"{want_outputs} output(s)",
                f"serve the right {spec.role} model under that name",
            )
        return TritonSession(
            self._client,
            name,
            inputs,
            outputs,
            self.timeout_s,
            str(self.endpoint),
            waited=self.waited,
        )

    def emap(self, spec: ModelSpec) -> np.ndarray[Any, Any]:
        """A remote swapper's 512x512 emap, from its companion model."""
        import tritonclient.grpc as grpcclient

        name = self.served_name(spec) + EMAP_SUFFIX
        try:
            request = grpcclient.InferInput("index", [1], "INT32")
            request.set_data_from_numpy(np.zeros(1, np.int32))
            result = self._client.infer(name, [request], client_timeout=max(self.timeout_s, 5))
        except Exception as exc:
            raise self._fail(
                name,
                f"the swapper's emap is not served ({_short(exc)})",
                "serve the swapper with `vcamswap serve`, or export the repository "
                "with `vcamswap serve export` (both add the _emap model)",
            ) from exc
        emap = np.asarray(result.as_numpy("emap"), dtype=np.float32).reshape(512, 512)
        return emap


def _arg(meta: dict[str, Any]) -> RemoteArg:
    shape: list[int | str] = [int(d) if int(d) > 0 else "N" for d in meta["shape"]]
    return RemoteArg(
        meta["name"], shape, _ORT_TYPE.get(meta["datatype"], meta["datatype"]), meta["datatype"]
    )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


class TritonSession:
    """One served model behind the OrtSession seam; thread-safe."""

    BACKOFF_START_S = 0.5
    BACKOFF_MAX_S = 10.0

    def __init__(
        self,
        client: Any,
        model: str,
        inputs: list[RemoteArg],
        outputs: list[RemoteArg],
        timeout_s: float,
        server: str,
        clock: Callable[[], float] = time.monotonic,
        waited: WaitMeter | None = None,
    ) -> None:
        self._waited = waited or WaitMeter()
        self._client = client
        self.model = model
        self._inputs = inputs
        self._outputs = outputs
        self._timeout = timeout_s
        self._server = server
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._backoff = 0.0
        self.failures = 0

    def get_inputs(self) -> list[RemoteArg]:
        return list(self._inputs)

    def get_outputs(self) -> list[RemoteArg]:
        return list(self._outputs)

    def get_providers(self) -> list[str]:
        return [f"Triton {self._server}"]

    def run(
        self, output_names: Sequence[str] | None, feeds: dict[str, np.ndarray[Any, Any]]
    ) -> list[np.ndarray[Any, Any]]:
        import tritonclient.grpc as grpcclient

        with self._lock:
            wait = self._down_until - self._clock()
        if wait > 0:
            raise RemoteUnavailableError(
                f"model server {self._server} unavailable; retrying in {wait:.1f} s"
            )
        names = list(output_names) if output_names else [o.name for o in self._outputs]
        requests = []
        for arg in self._inputs:
            data = np.ascontiguousarray(feeds[arg.name], dtype=_NP[arg.datatype])
            request = grpcclient.InferInput(arg.name, list(data.shape), arg.datatype)
            request.set_data_from_numpy(data)
            requests.append(request)
        started = time.perf_counter()
        try:
            result = self._client.infer(
                self.model,
                requests,
                outputs=[grpcclient.InferRequestedOutput(n) for n in names],
                client_timeout=self._timeout,
            )
        except Exception as exc:
            self._waited.add(time.perf_counter() - started)
            self._failed(exc)
            raise RemoteUnavailableError(
                f"model server {self._server} did not answer for {self.model} ({_short(exc)})"
            ) from exc
        self._waited.add(time.perf_counter() - started)
        self._recovered()
        return [np.asarray(result.as_numpy(n)) for n in names]

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            self.failures += 1
            self._backoff = min(self.BACKOFF_MAX_S, max(self.BACKOFF_START_S, self._backoff * 2))
            self._down_until = self._clock() + self._backoff
            backoff = self._backoff
        log.warning(
            "remote %s failed (%s); the next try in %.1f s", self.model, _short(exc), backoff
        )

    def _recovered(self) -> None:
        with self._lock:
            if self._backoff:
                log.info("remote %s answers again", self.model)
            self._backoff = 0.0
            self._down_until = 0.0
