"""Model manager: verification, resumable fetch from a loopback server, bad files, engine auto."""

from __future__ import annotations

import hashlib
import http.server
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.onnx_models import make_arcface, make_inswapper, make_scrfd
from vcamswap.config import AppPaths, Config
from vcamswap.errors import ModelError
from vcamswap.inference.catalog import CATALOG, ModelSpec
from vcamswap.inference.models import InSwapper
from vcamswap.inference.onnxfile import read_emap
from vcamswap.inference.providers import resolve_providers
from vcamswap.inference.session import SessionFactory, SessionOptions
from vcamswap.inference.store import ModelStore, Override
from vcamswap.processors.engines import choose_engine, model_store

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD with Range support; the first full request is cut off half-way."""

    cut_first = True
    requests: list[str | None] = []  # noqa: RUF012 - test server state

    def do_GET(self) -> None:
        RangeHandler.requests.append(self.headers.get("Range"))
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            self.send_response(206)
        else:
            self.send_response(200)
        body = PAYLOAD[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if RangeHandler.cut_first and start == 0:
            RangeHandler.cut_first = False
            self.wfile.write(body[: len(body) // 2])
            return
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def server() -> Iterator[str]:
    RangeHandler.cut_first = True
    RangeHandler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def spec_for(url: str, digest: str = DIGEST, size: int | None = len(PAYLOAD)) -> ModelSpec:
    return replace(
        CATALOG["det_10g"],
        name="test",
        file="test.onnx",
        sha256=(digest,),
        size=size,
        urls=(f"{url}/test.onnx",),
    )


def test_fetch_resumes_with_range_and_verifies(tmp_path: Path, server: str) -> None:
    store = ModelStore(tmp_path / "models", tmp_path / "cache.json")
    seen: list[int] = []
    path = store.fetch(spec_for(server), lambda _n, done, _t: seen.append(done))
    assert path.read_bytes() == PAYLOAD
    assert RangeHandler.requests[0] is None
    assert RangeHandler.requests[1] == f"bytes={len(PAYLOAD) // 2}-", "resumed, not restarted"
    assert not list((tmp_path / "models").glob("*.part"))
    assert seen and seen[-1] == len(PAYLOAD)
    assert store.verify(spec_for(server)).ok


def test_fetch_of_a_wrong_file_is_refused_and_kept_aside(tmp_path: Path, server: str) -> None:
    store = ModelStore(tmp_path / "models", tmp_path / "cache.json")
    with pytest.raises(ModelError) as info:
        store.fetch(spec_for(server, digest="0" * 64), retries=2)
    assert "expected " + "0" * 64 in str(info.value)
    assert not (tmp_path / "models" / "test.onnx").exists(), "a bad file is never loadable"
    assert (tmp_path / "models" / "test.onnx.bad").exists()


def test_offline_fetch_lists_url_and_folder(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models", tmp_path / "cache.json")
    spec = spec_for("http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(ModelError) as info:
        store.fetch(spec, retries=1)
    message = str(info.value)
    assert "http://127.0.0.1:9/test.onnx" in message and str(tmp_path / "models") in message


def test_verify_reports_missing_truncated_and_corrupt(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, tmp_path / "cache.json")
    spec = spec_for("http://x")
    assert store.verify(spec).state == "missing"
    (tmp_path / "test.onnx").write_bytes(PAYLOAD[:1000])
    truncated = store.verify(spec)
    assert truncated.state == "wrong-size" and "truncated" in truncated.message(spec.sha256)
    corrupt = bytearray(PAYLOAD)
    corrupt[5] ^= 0xFF
    (tmp_path / "test.onnx").write_bytes(bytes(corrupt))
    result = store.verify(spec)
    assert result.state == "wrong-digest"
    message = result.message(spec.sha256)
    assert DIGEST in message and hashlib.sha256(bytes(corrupt)).hexdigest() in message


def test_require_names_every_missing_file_with_url_and_folder(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, tmp_path / "cache.json")
    with pytest.raises(ModelError) as info:
        store.require([CATALOG["det_10g"], CATALOG["inswapper_128"]])
    message = str(info.value)
    for spec in (CATALOG["det_10g"], CATALOG["inswapper_128"]):
        assert spec.file in message and spec.urls[0] in message
    assert str(tmp_path) in message


def test_digest_is_cached_by_size_and_mtime(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, tmp_path / "cache.json")
    path = tmp_path / "f.bin"
    path.write_bytes(PAYLOAD)
    assert store.digest(path) == DIGEST
    assert DIGEST in (tmp_path / "cache.json").read_text()
    path.write_bytes(b"changed")
    assert store.digest(path) == hashlib.sha256(b"changed").hexdigest()


def test_providers_resolve_with_fallback() -> None:
    available = ["CPUExecutionProvider"]
    choice = resolve_providers(["cuda", "cpu"], available)
    assert choice.providers == ("CPUExecutionProvider",)
    assert "pip install 'vcamswap[gpu]'" in choice.warnings[0]
    full = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert resolve_providers(["auto"], full).providers == (
        "CUDAExecutionProvider",
        "TensorrtExecutionProvider",
        "CPUExecutionProvider",
    )


def test_compositing_graphs_use_cuda_where_the_models_use_tensorrt() -> None:
    from vcamswap.inference.providers import without_tensorrt

    full = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    trt_only = ("TensorrtExecutionProvider", "CPUExecutionProvider")
    assert without_tensorrt(trt_only, full) == ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert without_tensorrt(tuple(full), full) == ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert without_tensorrt(("CPUExecutionProvider",), full) == ("CPUExecutionProvider",)


def test_corrupt_onnx_and_wrong_signature_give_model_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    factory = SessionFactory(SessionOptions(providers=("cpu",)))
    with pytest.raises(ModelError, match="corrupt or not an ONNX model"):
        factory.create(bad)
    arcface = make_arcface(tmp_path / "arc.onnx")
    with pytest.raises(ModelError, match="does not have the expected signature"):
        InSwapper(
            factory.create(arcface),
            CATALOG["inswapper_128"],
            read_emap(make_inswapper(tmp_path / "sw.onnx")),
            arcface,
        )


def generated_store(tmp_path: Path) -> tuple[Config, AppPaths]:
    paths = AppPaths.under(tmp_path)
    folder = tmp_path / "gen"
    folder.mkdir()
    files = {
        "det_10g": make_scrfd(folder / "d.onnx"),
        "w600k_r50": make_arcface(folder / "a.onnx"),
        "inswapper_128": make_inswapper(folder / "s.onnx"),
    }
    config = Config.model_validate(
        {
            "models": {
                "overrides": {
                    name: {
                        "path": str(path),
                        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                    }
                    for name, path in files.items()
                }
            }
        }
    )
    return config, paths


def test_auto_engine_takes_neural_only_with_verified_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config, paths = generated_store(tmp_path)
    caplog.set_level(logging.INFO)
    assert choose_engine(config, model_store(config, paths)) == "neural"
    empty = Config()
    assert choose_engine(empty, model_store(empty, paths)) == "lite"
    assert "neural model files are not ready" in caplog.text
    with pytest.raises(ModelError, match=r"det_10g\.onnx is missing"):
        choose_engine(
            Config.model_validate({"swap": {"engine": "neural"}}), model_store(empty, paths)
        )


def test_user_override_with_a_wrong_digest_is_refused(tmp_path: Path) -> None:
    path = make_arcface(tmp_path / "a.onnx")
    store = ModelStore(tmp_path, tmp_path / "c.json", {"w600k_r50": Override(path, "1" * 64)})
    result = store.verify(CATALOG["w600k_r50"])
    assert result.state == "wrong-digest" and "models.overrides.w600k_r50" in result.message(
        store.accepted(CATALOG["w600k_r50"])
    )


def test_models_cli_lists_and_verifies(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "VCAMSWAP_HOME": str(tmp_path)}
    listed = subprocess.run(
        [sys.executable, "-m", "vcamswap", "models", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "inswapper_128" in listed.stdout and "non-commercial" in listed.stdout
    (tmp_path / "data" / "models").mkdir(parents=True)
    (tmp_path / "data" / "models" / "det_10g.onnx").write_bytes(b"truncated")
    verified = subprocess.run(
        [sys.executable, "-m", "vcamswap", "models", "verify"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert verified.returncode == 1
    assert "BAD   det_10g" in verified.stdout and "expected 5838f7fe" in verified.stdout
    fetch = subprocess.run(
        [sys.executable, "-m", "vcamswap", "models", "fetch", "det_10g"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert fetch.returncode == 1 and "--yes" in fetch.stderr
    assert "non-commercial" in fetch.stdout
