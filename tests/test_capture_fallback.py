"""CUDA-graph safety nets, exercised over CPU buffers: a compositing graph whose capture fails
on one of its first runs falls back to its plain graph (not the whole device path), and the
host path beside a device path that captures the swapper gets a session of its own
(onnxruntime replays a captured session's graph on every later run, whatever the feeds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers.models import session
from tests.onnx_models import make_arcface, make_inswapper, make_scrfd
from tests.test_devicegraphs import graph_session
from tests.test_devicepath import astronaut_pair, job, run
from vcamswap.compositing import Look
from vcamswap.compositing.device import DeviceCompositor
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.devicebind import CAPTURE_RUNS
from vcamswap.inference.models import InSwapper
from vcamswap.inference.onnxfile import read_emap
from vcamswap.inference.session import BoundRunner, DeferredSession


class CaptureFailsOnRun:
    """A session whose ``fail_on``-th run_with_iobinding raises, as a refused capture does."""

    def __init__(self, inner: Any, fail_on: int) -> None:
        self._inner = inner
        self._fail_on = fail_on
        self.runs = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def run_with_iobinding(self, binding: Any) -> None:
        self.runs += 1
        if self.runs == self._fail_on:
            raise RuntimeError("CUDA failure 900: operation not permitted when stream is capturing")
        self._inner.run_with_iobinding(binding)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("capture-models")
    make_arcface(folder / "w600k_r50.onnx")
    make_inswapper(folder / "inswapper_128.onnx", identity=False)
    make_scrfd(folder / "det_10g.onnx")
    return folder


@pytest.mark.parametrize("fail_on", [1, 2])
def test_a_capture_that_fails_on_an_early_run_falls_back_to_the_plain_graph(
    models: Path, fail_on: int, caplog: pytest.LogCaptureFixture
) -> None:
    frame, kps = astronaut_pair()
    faces = job(kps, np.zeros((2, 512), np.float32))
    swapper = session(models / "inswapper_128.onnx")
    plain = run(
        DeviceCompositor(graph_session, swapper, CATALOG["inswapper_128"], "cpu"),
        frame,
        faces,
        Look(),
    )
    made: list[tuple[str, bool]] = []

    def maker(data: bytes, what: str, captured: bool) -> Any:
        made.append((what, captured))
        real = graph_session(data)
        return CaptureFailsOnRun(real, fail_on) if captured and what == "device paste" else real

    path = DeviceCompositor(maker, swapper, CATALOG["inswapper_128"], "cpu", captured=True)
    for _ in range(CAPTURE_RUNS + 1):
        assert np.array_equal(run(path, frame, faces, Look()), plain), "no frame lost or wrong"
    warnings = [r.message for r in caplog.records if "capture failed" in r.message]
    assert len(warnings) == 1 and warnings[0].startswith("device paste")
    assert ("device paste", False) in made, "the paste fell back to its plain graph"
    assert ("device crop", False) not in made, "the crop keeps its captured graph"


def test_the_host_path_beside_a_captured_swapper_gets_its_own_session(
    models: Path, tmp_path: Path
) -> None:
    from vcamswap.config import AppPaths, Config
    from vcamswap.processors.engines import neural_loader
    from vcamswap.tools.bench import bench_store

    paths = AppPaths.under(tmp_path)
    config = Config()
    config.models.cuda_graph = True
    config.models.device_compositing = "on"
    loaded = neural_loader(config, bench_store(config, paths, models), paths, ("cpu",))()
    assert isinstance(loaded.compositor, DeviceCompositor)
    assert isinstance(loaded.swapper, InSwapper)
    host = loaded.swapper._session
    assert isinstance(host, DeferredSession)
    assert not host.made, "made only if the host path ever runs (warm-up used the device)"
    crop = np.full((128, 128, 3), 90, np.uint8)
    latent = np.full((1, 512), 1.0 / np.sqrt(512.0), np.float32)
    swapped = loaded.swapper.swap([crop], latent)
    assert host.made
    plain = InSwapper(
        session(models / "inswapper_128.onnx"),
        CATALOG["inswapper_128"],
        read_emap(models / "inswapper_128.onnx"),
    )
    assert np.array_equal(swapped[0], plain.swap([crop], latent)[0])
    # without CUDA graphs the host path keeps sharing the one session
    config.models.cuda_graph = False
    shared = neural_loader(config, bench_store(config, paths, models), paths, ("cpu",))()
    assert not isinstance(shared.swapper._session, DeferredSession)


def test_a_host_swapper_whose_capture_fails_at_load_runs_without(models: Path) -> None:
    """onnxruntime captures on an early run, not when the session is made: the host path's
    captured swapper is run through its capture at load, and one that fails there is replaced
    by a plain session (else every frame would fail); one that captures is kept."""
    from vcamswap.processors.neural_load import captured_or_plain

    path = models / "inswapper_128.onnx"
    spec = CATALOG["inswapper_128"]

    def swapper(fail_on: int | None) -> InSwapper:
        inner = session(path)
        wrapped: Any = inner if fail_on is None else CaptureFailsOnRun(inner, fail_on)
        return InSwapper(
            wrapped, spec, read_emap(path), path, BoundRunner(wrapped, "cpu", output_like_input=0)
        )

    fresh = swapper(None)
    for fail_on in (1, CAPTURE_RUNS):
        assert captured_or_plain(swapper(fail_on), lambda: fresh) is fresh
    kept = swapper(CAPTURE_RUNS + 1)
    assert captured_or_plain(kept, lambda: fresh) is kept
