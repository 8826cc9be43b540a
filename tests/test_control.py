"""Loopback control API: authentication, Host/Origin checks, limits, every endpoint, preview."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import CardRenderer, PixelSink, ScriptedSource, passthrough_supervisor, wait_for
from vcamswap.config import AppPaths
from vcamswap.control.server import MAX_BODY, ControlServer
from vcamswap.control.token import read_token, write_token
from vcamswap.daemon.controls import DaemonControls
from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
from vcamswap.processors.faces import folder_resolver


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[ControlServer, Supervisor, Path]]:
    faces = tmp_path / "faces"
    faces.mkdir()
    (faces / "alice.png").write_bytes(b"png")
    config = tmp_path / "config.yaml"
    config.write_text("swap:\n  enhancer: true\n")
    sink = PixelSink()
    supervisor = passthrough_supervisor(sink=sink)
    supervisor.start()
    controls = DaemonControls(supervisor, folder_resolver(faces), lambda: ["alice"], config, "lite")
    server = ControlServer(controls, "s3cret", 0, preview_fps=20)
    server.start()
    yield server, supervisor, config
    server.stop()
    supervisor.stop()


def call(
    server: ControlServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    token: str | None = "s3cret",
    host: str | None = None,
) -> tuple[int, dict[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    all_headers = {"Host": host or f"127.0.0.1:{server.port}", **(headers or {})}
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    connection.request(method, path, body=body, headers=all_headers)
    response = connection.getresponse()
    data = json.loads(response.read() or b"{}")
    connection.close()
    return response.status, data


def test_requests_without_the_right_token_host_or_origin_are_refused(
    daemon: tuple[ControlServer, Supervisor, Path],
) -> None:
    server, supervisor, _ = daemon
    assert call(server, "GET", "/api/status", token=None)[0] == 401
    assert call(server, "GET", "/api/status", token="guess")[0] == 401
    assert call(server, "POST", "/api/quit", b"{}", token="guess")[0] == 401
    status, body = call(
        server, "POST", "/api/disable", b"{}", headers={"Origin": "https://evil.example"}
    )
    assert status == 403 and "cross-origin" in str(body["error"])
    assert call(server, "GET", "/api/status", host="evil.example:80")[0] == 403
    assert supervisor.state.get().swap_enabled and not supervisor.stop_event.is_set()


def test_oversized_and_malformed_bodies_are_refused(
    daemon: tuple[ControlServer, Supervisor, Path],
) -> None:
    server, supervisor, _ = daemon
    assert call(server, "POST", "/api/face", b"x" * (MAX_BODY + 1))[0] == 413
    assert call(server, "POST", "/api/face", b"{not json")[0] == 400
    assert call(server, "POST", "/api/face", b"[1, 2]")[0] == 400
    assert call(server, "POST", "/api/face", b'{"name": 5}')[0] == 400
    assert call(server, "POST", "/api/enhancer", b'{"on": "yes"}')[0] == 400
    assert call(server, "POST", "/api/nothing", b"{}")[0] == 404
    frames = supervisor.status().frames_out
    time.sleep(0.3)
    assert supervisor.status().frames_out > frames, "the daemon keeps sending frames"


def test_every_endpoint(daemon: tuple[ControlServer, Supervisor, Path]) -> None:
    server, supervisor, config = daemon
    status, body = call(server, "GET", "/api/status")
    assert status == 200 and body["engine"] == "lite" and body["faces"] == ["alice"]
    assert call(server, "POST", "/api/disable", b"{}")[0] == 200
    assert not supervisor.state.get().swap_enabled
    assert call(server, "POST", "/api/enable", b"")[0] == 200
    assert supervisor.state.get().swap_enabled
    assert call(server, "POST", "/api/face", b'{"name": "alice"}')[0] == 200
    assert supervisor.state.get().face == "alice"
    status, body = call(server, "POST", "/api/face", b'{"name": "bob"}')
    assert status == 400 and "no face named 'bob'" in str(body["error"])
    assert supervisor.state.get().face == "alice", "a bad request changes nothing"
    assert call(server, "POST", "/api/enhancer", b'{"on": true}')[0] == 200
    assert supervisor.state.get().enhancer
    saved = config.read_text()
    assert "enabled: true" in saved and "face: alice" in saved, "changes are written back"
    config.write_text("swap:\n  enhancer: false\n  face: alice\n")
    status, body = call(server, "POST", "/api/reload", b"{}")
    assert status == 200 and body["ok"] and not supervisor.state.get().enhancer
    config.write_text("swap:\n  enhancr: true\n")
    status, body = call(server, "POST", "/api/reload", b"{}")
    assert status == 200 and not body["ok"]
    assert "did you mean 'enhancer'" in str(body["problems"])
    assert call(server, "POST", "/api/quit", b"{}")[0] == 200
    assert supervisor.stop_event.is_set()


def test_preview_page_and_mjpeg_stream(daemon: tuple[ControlServer, Supervisor, Path]) -> None:
    server, _, _ = daemon
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("GET", "/preview?token=s3cret", headers={"Host": f"127.0.0.1:{server.port}"})
    page = connection.getresponse().read().decode()
    assert '<img id="stream" src="/preview.mjpg?token=s3cret"' in page
    connection.close()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request(
        "GET", "/preview.mjpg?token=s3cret", headers={"Host": f"127.0.0.1:{server.port}"}
    )
    response = connection.getresponse()
    assert response.getheader("Content-Type", "").startswith("multipart/x-mixed-replace")
    data = b""
    while data.count(b"\xff\xd9") < 3:
        data += response.read1(65536)
    jpegs = [part[part.index(b"\xff\xd8") :] for part in data.split(b"--frame")[1:3]]
    assert jpegs[0] != jpegs[1], "the preview shows new frames"
    connection.close()


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="POSIX file modes: Windows has no 0600 (the profile's ACL applies)",
)
def test_token_file_is_private_and_ctl_talks_to_the_daemon(
    tmp_path: Path, daemon: tuple[ControlServer, Supervisor, Path]
) -> None:
    server, supervisor, _ = daemon
    paths = AppPaths.under(tmp_path / "home")
    token = write_token(paths.token_file)
    assert stat.S_IMODE(paths.token_file.stat().st_mode) == 0o600
    assert read_token(paths.token_file) == token
    server.token = token
    paths.token_file.with_name("control.port").write_text(str(server.port))
    env = {**os.environ, "VCAMSWAP_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "vcamswap", "ctl", "disable"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not supervisor.state.get().swap_enabled
    bad = subprocess.run(
        [sys.executable, "-m", "vcamswap", "ctl", "face", "bob"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1 and "no face named 'bob'" in bad.stderr
    status = subprocess.run(
        [sys.executable, "-m", "vcamswap", "ctl", "status", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert status.returncode == 0, status.stderr
    assert len(status.stdout.strip().splitlines()) == 1, "one JSON object on one line"
    data = json.loads(status.stdout)
    for key in (
        "state",
        "camera_mode",
        "camera_open",
        "input_fps",
        "output_fps",
        "latency_ms",
        "governor",
        "engine",
        "face",
    ):
        assert key in data, key
    assert {"level", "reason", "mode"} <= set(data["governor"])
    assert data["camera_open"] is True and data["camera_mode"] == "always"
    human = subprocess.run(
        [sys.executable, "-m", "vcamswap", "ctl", "status"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert "quality:   step 0 of 0 (full quality), governor off" in human.stdout, human.stdout
    pinned = subprocess.run(
        [sys.executable, "-m", "vcamswap", "ctl", "governor", "3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert pinned.returncode == 1 and "no quality level 3" in pinned.stderr


def test_governor_endpoint_sets_the_mode_and_saves_it(
    daemon: tuple[ControlServer, Supervisor, Path],
) -> None:
    server, supervisor, config = daemon
    supervisor.governor.set_levels(("full quality", "cheaper", "cheapest"))
    status, body = call(server, "POST", "/api/governor", b'{"mode": "pinned", "level": 2}')
    assert status == 200, body
    assert supervisor.governor.view().mode == "pinned"
    assert wait_for(lambda: supervisor.governor.view().level == 2, 2.0)
    assert "mode: pinned" in config.read_text() and "level: 2" in config.read_text()
    assert call(server, "POST", "/api/governor", b'{"mode": "fast"}')[0] == 400
    assert call(server, "POST", "/api/governor", b'{"mode": "pinned", "level": 9}')[0] == 400
    assert call(server, "POST", "/api/governor", b'{"mode": "auto"}')[0] == 200
    assert supervisor.governor.view().mode == "auto"


def test_ctl_without_a_daemon_says_so(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path / "home")
    write_token(paths.token_file)
    paths.token_file.with_name("control.port").write_text("9")  # nothing listens there
    env = {**os.environ, "VCAMSWAP_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "vcamswap", "ctl", "status"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "no VCamSwap daemon is running" in result.stderr


def test_face_switch_is_prepared_before_the_switch(tmp_path: Path) -> None:
    """The new face is built on the control thread; the frame path never waits for it."""
    from vcamswap.facelib.library import FaceLibrary
    from vcamswap.inference.landmarks import DlibLandmarker
    from vcamswap.processors.lite import LiteSwapProcessor
    from vcamswap.processors.lite_options import LiteOptions
    from vcamswap.processors.lite_source import lite_face_cache
    from vcamswap.runtime import RuntimeState, Toggles
    from vcamswap.samples import sample_photo_path

    library = FaceLibrary(tmp_path / "faces")
    library.add(sample_photo_path("grace_hopper"), name="grace")
    library.add(sample_photo_path("astronaut"), name="eileen")
    (library.cache / f"{library.entries()[0].sha256}.lite.npz").unlink()  # one built afresh
    landmarker = DlibLandmarker()
    state = RuntimeState(Toggles(face="grace"))
    cache = lite_face_cache(landmarker, folder_resolver(library.folder), library.cache)
    processor = LiteSwapProcessor(landmarker, cache, state, LiteOptions(detect_async=False))
    supervisor = Supervisor(
        ScriptedSource(),
        processor,
        PixelSink(),
        CardRenderer(),
        state=state,
        options=PipelineOptions(default_size=(64, 48)),
    )
    controls = DaemonControls(
        supervisor, folder_resolver(library.folder), library.names, None, "lite", processor.prefetch
    )
    assert not cache.cached("eileen")
    controls.set_source_face("eileen")
    assert cache.cached("eileen") and state.get().face == "eileen"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    (CHROMIUM is None and not os.environ.get("CI")) or not sys.platform.startswith("linux"),
    reason="needs Debian's chromium (.ci/run installs it on Linux; in CI there it must run)",
)
def test_headless_chromium_sees_the_preview_change(
    tmp_path: Path, daemon: tuple[ControlServer, Supervisor, Path]
) -> None:
    from PIL import Image

    server, _, _ = daemon
    assert CHROMIUM is not None
    url = f"http://127.0.0.1:{server.port}/preview?token=s3cret"
    pixels = []
    for index in range(2):
        shot = tmp_path / f"shot{index}.png"
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / f'profile{index}'}",
                f"--screenshot={shot}",
                "--window-size=500,400",
                "--virtual-time-budget=3000",
                url,
            ],
            capture_output=True,
            timeout=90,
            check=False,
        )
        assert shot.is_file(), "chromium rendered the preview page"
        image = Image.open(shot).convert("RGB")
        pixels.append(image.getpixel((40, 90)))  # inside the 64x48 stream image
        time.sleep(0.5)
    assert pixels[0] != pixels[1], "the streamed frame changed between two page loads"
