"""`vcamswap serve export` writes a repository NVIDIA's Triton container accepts: every
config.pbtxt parses with Triton's own ModelConfig schema; plus the remote client's checks that
need no server (URL, TLS warning, clear messages)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tests.onnx_models import make_arcface, make_gfpgan, make_inswapper, make_scrfd
from vcamswap.errors import ModelError
from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.remote import RemoteModels, parse_url


def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    make_scrfd(folder / "det_10g.onnx")
    make_arcface(folder / "w600k_r50.onnx")
    make_inswapper(folder / "inswapper_128.onnx")  # fixed batch 1, like the real file
    make_gfpgan(folder / "GFPGANv1.4.onnx")
    return folder


def parse(path: Path) -> object:
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2

    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


def test_export_writes_a_repository_tritons_schema_accepts(tmp_path: Path) -> None:
    from vcamswap.cli.main import main

    repo = tmp_path / "repo"
    assert (
        main(
            [
                "serve",
                "export",
                "--models",
                str(model_folder(tmp_path)),
                "--out",
                str(repo),
                "--tensorrt",
                "--instances",
                "2",
            ]
        )
        == 0
    )
    names = sorted(p.name for p in repo.iterdir())
    assert names == ["det_10g", "gfpgan_1.4", "inswapper_128", "inswapper_128_emap", "w600k_r50"]
    configs = {name: parse(repo / name / "config.pbtxt") for name in names}
    swapper = configs["inswapper_128"]
    assert swapper.backend == "onnxruntime" and swapper.max_batch_size == 8  # type: ignore[attr-defined]
    assert [i.name for i in swapper.input] == ["target", "source"]  # type: ignore[attr-defined]
    assert list(swapper.input[0].dims) == [3, 128, 128]  # type: ignore[attr-defined]
    assert swapper.dynamic_batching.max_queue_delay_microseconds > 0  # type: ignore[attr-defined]
    group = swapper.instance_group[0]  # type: ignore[attr-defined]
    assert group.count == 2 and group.kind == group.KIND_GPU
    accelerator = swapper.optimization.execution_accelerators.gpu_execution_accelerator[0]  # type: ignore[attr-defined]
    assert accelerator.name == "tensorrt" and accelerator.parameters["precision_mode"] == "FP16"
    # The fixed batch of 1 became a dynamic batch: the exported model runs with 2 faces.
    session = ort.InferenceSession(str(repo / "inswapper_128" / "1" / "model.onnx"))
    out = session.run(
        None,
        {
            "target": np.zeros((2, 3, 128, 128), np.float32),
            "source": np.zeros((2, 512), np.float32),
        },
    )[0]
    assert out.shape == (2, 3, 128, 128)
    # SCRFD's outputs are per-anchor rows of one image: served unbatched, full shapes.
    detector = configs["det_10g"]
    assert detector.max_batch_size == 0  # type: ignore[attr-defined]
    assert list(detector.input[0].dims) == [1, 3, 640, 640]  # type: ignore[attr-defined]
    emap = ort.InferenceSession(str(repo / "inswapper_128_emap" / "1" / "model.onnx"))
    from vcamswap.inference.onnxfile import read_emap

    got = emap.run(None, {"index": np.zeros(1, np.int32)})[0]
    assert np.array_equal(got, read_emap(tmp_path / "models" / "inswapper_128.onnx"))


def test_export_refuses_a_folder_in_use_and_a_folder_without_models(tmp_path: Path) -> None:
    from vcamswap.cli.main import main

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("")
    assert (
        main(["serve", "export", "--models", str(model_folder(tmp_path)), "--out", str(busy)]) == 1
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["serve", "export", "--models", str(empty), "--out", str(tmp_path / "r")]) == 1


def test_serve_in_a_numpy_2_environment_says_how_to_set_it_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vcamswap.cli.main import main

    assert main(["serve", "--models", str(model_folder(tmp_path))]) == 1
    assert "numpy < 2" in capsys.readouterr().err


class FakeTriton:
    def __init__(self, **kwargs: object) -> None:
        self.kwargs = kwargs


def test_remote_url_tls_and_plaintext_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert str(parse_url("grpc://gpu.lan")) == "grpc://gpu.lan:8001"
    assert parse_url("grpcs://gpu.lan:9001").tls
    with pytest.raises(ModelError, match="grpc://HOST:PORT"):
        parse_url("http://gpu.lan:8000")
    with caplog.at_level(logging.WARNING):
        RemoteModels("grpc://127.0.0.1:8001", client_factory=FakeTriton)
        assert "plaintext" not in caplog.text, "loopback needs no TLS"
        RemoteModels("grpc://192.168.1.20:8001", client_factory=FakeTriton)
        assert "plaintext gRPC to 192.168.1.20" in caplog.text and "grpcs://" in caplog.text
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    tls = RemoteModels("grpcs://gpu.lan:8001", ca_file=ca, client_factory=FakeTriton)
    assert tls._client.kwargs == {"url": "gpu.lan:8001", "ssl": True, "root_certificates": str(ca)}
    with pytest.raises(ModelError, match="ca_file"):
        RemoteModels(
            "grpcs://gpu.lan:8001", ca_file=tmp_path / "missing.pem", client_factory=FakeTriton
        )


def test_config_and_cli_reject_a_bad_remote_url(tmp_path: Path) -> None:
    from vcamswap.config import Config
    from vcamswap.config.overrides import with_remote
    from vcamswap.errors import ConfigError

    assert with_remote(Config(), "grpc://gpu:8001").models.remote.url == "grpc://gpu:8001"
    with pytest.raises(ConfigError, match="--remote 'gpu:8001'"):
        with_remote(Config(), "gpu:8001")
    assert CATALOG["inswapper_128"].role == "swapper"


def test_remote_models_need_no_local_file() -> None:
    from vcamswap.config import Config
    from vcamswap.processors.engines import local_models, remote_roles

    config = Config()
    config.swap.enhancer = True
    assert remote_roles(config) == set()
    assert len(local_models(config)) == 4
    config.models.remote.url = "grpc://gpu:8001"
    assert remote_roles(config) == {"swapper", "enhancer"}
    assert [s.name for s in local_models(config)] == ["det_10g", "w600k_r50"]
