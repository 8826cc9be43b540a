"""Remote inference against a real Triton server (the binary inside nvidia-pytriton, started by
`vcamswap serve`) with generated models of the real architectures (1/16 of the channels).
`pytest -m remote` selects these."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.fakes import CardRenderer, PixelSink, ScriptedSource, wait_for
from tests.remote_server import ROOT, TritonProcess, serve_python
from vcamswap.config import AppPaths, Config
from vcamswap.errors import ModelError
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.remote import RemoteModels, RemoteUnavailableError, TritonSession
from vcamswap.inference.session import SessionFactory, SessionOptions

pytestmark = [
    pytest.mark.remote,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"),
        reason="Triton (nvidia-pytriton) ships Linux wheels only; the "
        "server helper uses libc.so.6's prctl and os.killpg",
    ),
]
TOLERANCE = 1e-4
"""Same onnxruntime CPU kernels on both sides: differences come only from batching order."""


def _make_models(out: Path) -> Path:
    spec = importlib.util.spec_from_file_location(
        "make_models", ROOT / "benchmarks" / "make_models.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_models"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    module.write_all(out, scale=1 / 16)
    fp16 = out.parent / "fp16"
    module.write_all(fp16, fp16=True, scale=1 / 16)
    (fp16 / "inswapper_128_fp16.onnx").rename(out / "inswapper_128_fp16.onnx")
    return out


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_models(tmp_path_factory.mktemp("remote") / "models")


@pytest.fixture(scope="module")
def server(models: Path) -> Iterator[TritonProcess]:
    process = TritonProcess(models, serve_python())
    process.start()
    yield process
    process.stop()


def local(path: Path) -> Any:
    return SessionFactory(SessionOptions(providers=("cpu",))).create(path)


def random_feeds(session: Any, batch: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    feeds = {}
    for arg in session.get_inputs():
        shape = [batch if not isinstance(d, int) or i == 0 else d for i, d in enumerate(arg.shape)]
        dtype = np.float16 if "float16" in arg.type else np.float32
        feeds[arg.name] = rng.random(shape).astype(dtype)
    return feeds


def test_each_model_remote_output_equals_local(server: TritonProcess, models: Path) -> None:
    remote = RemoteModels(server.url, timeout_s=10.0)
    for name in ("det_10g", "w600k_r50", "inswapper_128", "inswapper_128_fp16", "gfpgan_1.4"):
        spec = CATALOG[name]
        mine = local(models / spec.file)
        theirs = remote.session(spec)
        feeds = random_feeds(mine)
        expected = mine.run(None, feeds)
        got = theirs.run(None, feeds)
        assert len(got) == len(expected), name
        for a, b in zip(got, expected, strict=True):
            assert a.shape == b.shape, name
            assert np.abs(a.astype(np.float32) - b.astype(np.float32)).max() <= TOLERANCE, name
        if name.endswith("fp16"):
            assert [arg.datatype for arg in theirs.get_inputs()] == ["FP16", "FP16"], (
                "an fp16 model gets fp16 requests"
            )
    emap = remote.emap(CATALOG["inswapper_128"])
    from vcamswap.inference.onnxfile import read_emap

    assert np.array_equal(emap, read_emap(models / "inswapper_128.onnx"))


def neural_processor(models: Path, tmp: Path, url: str | None, enhancer: bool = True) -> Any:
    from vcamswap.processors.engines import neural_loader
    from vcamswap.processors.neural import NeuralOptions, NeuralSwapProcessor
    from vcamswap.runtime import RuntimeState, Toggles
    from vcamswap.samples import sample_photo_path
    from vcamswap.tools.bench import PinnedDetector, bench_store, pinned_faces

    config = Config()
    config.swap.enhancer = enhancer
    config.models.remote.url = url
    config.models.remote.timeout_ms = 2000.0
    paths = AppPaths.under(tmp)
    load = neural_loader(config, bench_store(config, paths, models), paths, ("cpu",))
    faces = pinned_faces(640, 480, 1)

    def pinned() -> Any:
        from dataclasses import replace

        loaded = load()
        return replace(loaded, detector=PinnedDetector(loaded.detector, faces))

    face = sample_photo_path("grace_hopper")
    return NeuralSwapProcessor(
        pinned, lambda _n: face, RuntimeState(Toggles(enhancer=enhancer)), NeuralOptions()
    )


def test_a_whole_swapped_frame_local_and_remote_agree(
    server: TritonProcess, models: Path, tmp_path: Path
) -> None:
    from vcamswap.samples import animate, sample_photo
    from vcamswap.types import Frame

    image = animate(sample_photo("astronaut"), 0, 30, (640, 480))
    here = neural_processor(models, tmp_path / "a", None)
    there = neural_processor(models, tmp_path / "b", server.url)
    here.start()
    there.start()
    a = here.process(Frame(image, 1, 0.0)).image
    b = there.process(Frame(image, 1, 0.0)).image
    assert np.abs(a.astype(np.int16) - b.astype(np.int16)).max() <= 1
    assert np.abs(a.astype(np.int16) - image.astype(np.int16)).max() > 10, "it swapped"


def test_server_lost_mid_stream_then_back(
    server: TritonProcess, models: Path, tmp_path: Path
) -> None:
    from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor

    processor = neural_processor(models, tmp_path, server.url, enhancer=False)
    sink = PixelSink()
    supervisor = Supervisor(
        ScriptedSource(fps=15.0, width=640, height=480),
        processor,
        sink,
        CardRenderer(),
        options=PipelineOptions(default_size=(640, 480), output_fps=15.0),
    )
    supervisor.start()
    try:
        assert wait_for(lambda: supervisor.status().frames_processed > 5, 30.0)
        assert supervisor.status().state == "running"
        server.stop()
        assert wait_for(lambda: supervisor.status().state == "degraded", 10.0)
        assert "model server" in (supervisor.status().last_error or "")
        sent = len(sink.snapshot())
        time.sleep(1.0)
        assert len(sink.snapshot()) - sent >= 10, "the output keeps flowing without the server"
        server.start()
        assert wait_for(lambda: supervisor.status().state == "running", 40.0), (
            "back to normal without a restart"
        )
    finally:
        supervisor.stop()


def test_a_wrong_model_gives_one_clear_error(server: TritonProcess) -> None:
    remote = RemoteModels(server.url, names={"inswapper_128": "w600k_r50"})
    with pytest.raises(ModelError) as error:
        remote.session(CATALOG["inswapper_128"])
    message = str(error.value)
    assert server.url in message and "'w600k_r50'" in message
    assert "does not fit the swapper slot" in message and "Fix:" in message
    with pytest.raises(ModelError, match="not served"):
        RemoteModels(server.url, names={"gfpgan_1.4": "nope"}).session(CATALOG["gfpgan_1.4"])


def test_unreachable_server_is_named_with_the_fix() -> None:
    from tests.remote_server import free_port

    url = f"grpc://127.0.0.1:{free_port()}"
    with pytest.raises(ModelError, match="unreachable") as error:
        RemoteModels(url, timeout_s=0.2).session(CATALOG["inswapper_128"])
    assert url in str(error.value) and "vcamswap serve" in str(error.value)


def test_eight_concurrent_clients_are_batched(server: TritonProcess, models: Path) -> None:
    import tritonclient.grpc as grpcclient

    spec = CATALOG["inswapper_128"]
    feeds = random_feeds(local(models / spec.file))
    stop = time.monotonic() + 3.0
    errors: list[BaseException] = []

    def client() -> None:
        session = RemoteModels(server.url, timeout_s=10.0).session(spec)
        try:
            while time.monotonic() < stop:
                session.run(None, feeds)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    stats = grpcclient.InferenceServerClient(server.url.split("//")[1]).get_inference_statistics(
        "inswapper_128", as_json=True
    )
    sizes = [int(b["batch_size"]) for b in stats["model_stats"][0]["batch_stats"]]
    assert max(sizes) > 1, f"batch sizes seen: {sizes}"


class FakeClient:
    """A scripted tritonclient for the failure timing (no server)."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = True

    def infer(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.fail:
            raise ConnectionError("connection refused")
        raise AssertionError("not reached")


def test_a_lost_server_is_not_asked_again_until_the_backoff_ends() -> None:
    from vcamswap.inference.remote import RemoteArg

    clock = [0.0]
    client = FakeClient()
    session = TritonSession(
        client,
        "inswapper_128",
        [RemoteArg("target", ["N", 3, 128, 128], "tensor(float)", "FP32")],
        [RemoteArg("output", ["N", 3, 128, 128], "tensor(float)", "FP32")],
        0.3,
        "grpc://gpu:8001",
        clock=lambda: clock[0],
    )
    feeds = {"target": np.zeros((1, 3, 128, 128), np.float32)}
    with pytest.raises(RemoteUnavailableError, match="did not answer"):
        session.run(None, feeds)
    with pytest.raises(RemoteUnavailableError, match=r"retrying in 0\.5 s"):
        session.run(None, feeds)
    assert client.calls == 1, "no network call during the backoff"
    clock[0] = 0.6
    with pytest.raises(RemoteUnavailableError):
        session.run(None, feeds)
    assert client.calls == 2
    clock[0] = 1.0
    with pytest.raises(RemoteUnavailableError, match=r"retrying in 0\.6 s"):
        session.run(None, feeds)  # the backoff doubled to 1 s


def test_sigterm_stops_the_server_and_tritonserver(models: Path) -> None:
    """`kill PID` (systemd's stop) must not leave tritonserver holding the ports."""
    import socket

    process = TritonProcess(models, serve_python())
    process.start()
    try:
        assert process.terminate(), "tritonserver or a stub outlived `vcamswap serve`"
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", process.grpc_port)) != 0, "the port is free"
    finally:
        process.stop()
