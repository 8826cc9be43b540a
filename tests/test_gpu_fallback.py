"""onnxruntime-gpu lists CUDAExecutionProvider whenever its provider library is installed, also
when the CUDA or cuDNN libraries it loads are missing; a session asked for CUDA then runs on
the CPU with nothing but onnxruntime's own log line (seen with onnxruntime-gpu 1.31.1 on a
machine without CUDA: "Failed to load library libonnxruntime_providers_cuda.so ...
libcublasLt.so.13"). The CPU onnxruntime here behaves the same when told CUDA is listed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnxruntime
import pytest

from vcamswap.config import AppPaths
from vcamswap.inference.letterbox import letterbox_graph
from vcamswap.inference.providers import (
    gpu_fallback_message,
    preload_gpu_libraries,
    probe_providers,
)
from vcamswap.inference.session import SessionFactory, SessionOptions
from vcamswap.tools.doctor import run_doctor

pytestmark = pytest.mark.filterwarnings("ignore:Specified provider:UserWarning")
LISTED = ["CUDAExecutionProvider", "CPUExecutionProvider"]


@pytest.fixture()
def cuda_listed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """CUDA listed but unable to start; records calls of onnxruntime.preload_dlls."""
    calls: list[str] = []

    def preload() -> None:
        calls.append("preload")
        print("Failed to load libcublasLt.so.13: cannot open shared object file")

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: list(LISTED))
    monkeypatch.setattr(onnxruntime, "preload_dlls", preload, raising=False)
    return calls


def graph() -> bytes:
    return letterbox_graph(127.5, 128.0, np.float32)


def test_a_cuda_session_that_lands_on_the_cpu_warns_once_with_the_fix(
    cuda_listed: list[str], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    factory = SessionFactory(SessionOptions(providers=("cuda",)))
    with caplog.at_level(logging.WARNING, logger="vcamswap.inference.session"):
        first = factory.create(graph(), what="letterbox")
        second = factory.create(graph(), what="letterbox")
    assert first.get_providers() == second.get_providers() == ["CPUExecutionProvider"]
    warnings = [r.getMessage() for r in caplog.records if "could not start" in r.getMessage()]
    assert len(warnings) == 1, "one warning per factory, not one per model"
    assert "CUDAExecutionProvider could not start" in warnings[0]
    assert "onnxruntime-gpu[cuda,cudnn]" in warnings[0] and "LD_LIBRARY_PATH" in warnings[0]
    assert cuda_listed == ["preload"], "the wheels' libraries are loaded once, before sessions"
    assert "libcublasLt" not in capsys.readouterr().out, "preload_dlls' prints stay off stdout"


def test_cpu_sessions_neither_preload_nor_warn(
    cuda_listed: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    factory = SessionFactory(SessionOptions(providers=("cpu",)))
    with caplog.at_level(logging.WARNING):
        factory.create(graph(), what="letterbox")
    assert cuda_listed == []
    assert not [r for r in caplog.records if "could not start" in r.getMessage()]


def test_preload_is_optional_and_a_failing_one_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Old:  # onnxruntime before 1.21 has no preload_dlls
        pass

    assert preload_gpu_libraries(Old()) == ""

    class Broken:
        @staticmethod
        def preload_dlls() -> None:
            raise RuntimeError("Invalid parameter of directory")

    assert "RuntimeError: Invalid parameter" in preload_gpu_libraries(Broken())


def test_tensorrt_missing_beside_working_cuda_names_tensorrt() -> None:
    message = gpu_fallback_message(
        onnxruntime, "TensorrtExecutionProvider", ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    assert "TensorRT libraries" in message and "models.providers: [cuda]" in message


def test_probe_reports_where_a_session_really_runs(cuda_listed: list[str]) -> None:
    assert probe_providers(["cuda"]) == ["CPUExecutionProvider"]
    assert probe_providers(["cpu"]) == ["CPUExecutionProvider"]


def test_doctor_warns_when_listed_cuda_cannot_start(cuda_listed: list[str], tmp_path: Path) -> None:
    checks = {c.name: c for c in run_doctor(AppPaths.under(tmp_path))}
    cuda = checks["cuda"]
    assert cuda.level == "WARN" and "could not start" in cuda.message
    assert "onnxruntime-gpu[cuda,cudnn]" in cuda.fix and "doctor" not in cuda.fix
    # auto compositing follows the provider that really starts, not the listed one
    assert "OpenCV" in checks["device-compositing"].message


class RefusesCudaGraphs:
    """onnxruntime.InferenceSession as it answers enable_cuda_graph for a model with a node
    placed off CUDA; records the providers each attempt asked for."""

    asked: ClassVar[list[list[object]]] = []

    def __init__(
        self, source: object, sess_options: object = None, providers: list[object] | None = None
    ) -> None:
        RefusesCudaGraphs.asked.append(list(providers or []))
        if any(isinstance(p, tuple) and p[1].get("enable_cuda_graph") for p in providers or []):
            raise RuntimeError(
                "This session cannot use the graph capture feature as requested "
                "by the user as all compute graph nodes have not been "
                "partitioned to the CUDA EP."
            )

    def get_providers(self) -> list[str]:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]


def test_a_model_refusing_cuda_graphs_loads_without_them(
    cuda_listed: list[str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """models.cuda_graph with a model onnxruntime cannot capture: one warning and a plain
    session, not "the file is corrupt, delete it"; with TensorRT in front no capture is asked
    for (every node must be on CUDA)."""
    RefusesCudaGraphs.asked = []
    monkeypatch.setattr(onnxruntime, "InferenceSession", RefusesCudaGraphs)
    factory = SessionFactory(SessionOptions(providers=("cuda",)))
    with caplog.at_level(logging.WARNING, logger="vcamswap.inference.session"):
        session = factory.create(graph(), what="swapper", cuda_graph=True)
    assert session.get_providers()[0] == "CUDAExecutionProvider"
    assert [type(p[0]) for p in RefusesCudaGraphs.asked] == [tuple, str]
    assert any("swapper: no CUDA graph" in r.getMessage() for r in caplog.records)
    monkeypatch.setattr(
        onnxruntime, "get_available_providers", lambda: ["TensorrtExecutionProvider", *LISTED]
    )
    RefusesCudaGraphs.asked = []
    SessionFactory(SessionOptions(providers=("tensorrt", "cuda"))).create(
        graph(), what="swapper", cuda_graph=True
    )
    assert (
        len(RefusesCudaGraphs.asked) == 1
        and "CUDAExecutionProvider" in str(RefusesCudaGraphs.asked[0])
        and "enable_cuda_graph" not in str(RefusesCudaGraphs.asked[0])
    )
