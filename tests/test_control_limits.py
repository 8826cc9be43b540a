"""Control API limits: idle connections time out, concurrent connections are capped, every
bad request is a 4xx with a one-line JSON error and one log line (never a traceback, the body
or the token), and log files are 0600."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers_files import bomb_png
from vcamswap.control import http as http_module
from vcamswap.control import server as server_module
from vcamswap.control.server import ControlServer
from vcamswap.log import setup_logging
from vcamswap.processors.faces import SourceFaceCache, folder_resolver
from vcamswap.types import BgrImage

TOKEN = "s3cret-token-value"


class FaceControls:
    """Controls whose face switch resolves and prefetches like the daemon's (the real
    resolver and face cache over a folder); the rest records calls."""

    def __init__(self, folder: Path) -> None:
        self._resolve = folder_resolver(folder)
        self._cache: SourceFaceCache[int] = SourceFaceCache(
            self._resolve, lambda image, name, digest: 1
        )
        self.faces: list[str] = []

    def status(self) -> dict[str, Any]:
        return {"state": "running"}

    def set_swap_enabled(self, on: bool) -> None:
        return None

    def set_source_face(self, name: str) -> None:
        self._resolve(name)
        self._cache.prefetch(name)
        self.faces.append(name)

    def set_enhancer(self, on: bool) -> None:
        return None

    def set_mouth_mask(self, on: bool) -> None:
        return None

    def set_governor(self, mode: str, level: int = 0) -> None:
        return None

    def reload(self) -> list[str]:
        raise RuntimeError("reload exploded\nsecond line")

    def quit(self) -> None:
        return None

    def preview_frame(self) -> BgrImage | None:
        return None


@pytest.fixture
def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ControlServer, FaceControls]]:
    monkeypatch.setattr(server_module._Handler, "timeout", 0.5)
    monkeypatch.setattr(http_module.BoundedHTTPServer, "max_connections", 4)
    faces = tmp_path / "faces"
    faces.mkdir()
    bomb_png(faces / "bomb.png")
    controls = FaceControls(faces)
    server = ControlServer(controls, TOKEN, 0)
    server.start()
    yield server, controls
    server.stop()


def raw(server: ControlServer, request: bytes) -> tuple[int, bytes]:
    """Send ``request`` as is; the status and body of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = [
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ]
            if length and len(body) >= length[0]:
                break
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def post(
    server: ControlServer, path: str, body: bytes, extra: str = ""
) -> tuple[int, dict[str, Any]]:
    headers = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {TOKEN}\r\n{extra}"
    )
    if "Content-Length" not in extra:
        headers += f"Content-Length: {len(body)}\r\n"
    status, answer = raw(server, headers.encode() + b"\r\n" + body)
    text = answer.decode()
    assert text.count("\n") <= 1, f"one line: {text!r}"
    return status, json.loads(text)


def test_bad_requests_get_a_one_line_json_4xx_and_one_log_line(
    served: tuple[ControlServer, FaceControls], caplog: pytest.LogCaptureFixture
) -> None:
    server, controls = served
    caplog.set_level(logging.DEBUG, logger="vcamswap.control.server")
    cases = [
        ("Content-Length: -1\r\n", b"x" * 100, 400, "Content-Length"),
        ("Content-Length: 12abc\r\n", b"{}", 400, "Content-Length"),
        ("", b'{"name":' + b"[" * 2000 + b"]" * 2000 + b"}", 400, "nested too deeply"),
        ("", json.dumps({"name": "x" * 300}).encode(), 400, "too long"),
        ("", json.dumps({"name": "../../etc/passwd"}).encode(), 400, "folder separators"),
        ("", json.dumps({"name": "a\\b"}).encode(), 400, "folder separators"),
        ("", json.dumps({"name": "bomb"}).encode(), 400, "40000x40000"),
    ]
    for extra, body, expected, needle in cases:
        caplog.clear()
        status, answer = post(server, "/api/face", body, extra)
        assert status == expected and needle in answer["error"], (extra, body[:20], answer)
        lines = [r for r in caplog.records if r.name == "vcamswap.control.server"]
        assert len(lines) == 1, [r.getMessage() for r in lines]
        assert lines[0].exc_info is None
        assert "[[[[" not in lines[0].getMessage() and "xxxxxxxx" not in lines[0].getMessage()
    assert controls.faces == []
    # An unexpected failure is a 500 with one line, not a dropped connection.
    caplog.clear()
    status, answer = post(server, "/api/reload", b"{}")
    assert status == 500 and answer["error"] == "RuntimeError: reload exploded second line"
    # http.server's own refusals are JSON too.
    status, body = raw(server, b"BAD\r\n\r\n")
    assert status == 400 and "error" in json.loads(body)
    assert "Traceback" not in caplog.text


def test_idle_connections_time_out_and_connections_are_capped(
    served: tuple[ControlServer, FaceControls],
) -> None:
    server, _ = served
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(4)]
    time.sleep(0.2)
    assert threading.active_count() <= before + 4
    status, body = raw(server, b"GET /api/status HTTP/1.1\r\n\r\n")
    assert status == 503 and "too many connections" in json.loads(body)["error"]
    assert threading.active_count() <= before + 4, "a refused connection gets no thread"
    # The idle ones are closed by the server after the read timeout; their threads end.
    for sock in idle:
        sock.settimeout(3)
        assert sock.recv(100) == b"", "the server closed the idle connection"
        sock.close()
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before
    status, _ = post(server, "/api/enable", b"{}")
    assert status == 200


def test_the_token_is_never_logged(
    served: tuple[ControlServer, FaceControls], caplog: pytest.LogCaptureFixture
) -> None:
    server, _ = served
    caplog.set_level(logging.DEBUG)
    status, _ = raw(
        server,
        f"GET /preview?token={TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:"
        f"{server.port}\r\nConnection: close\r\n\r\n".encode(),
    )
    assert status == 200
    raw(
        server,
        f"GET /nowhere?a=1&token={TOKEN} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}"
        f"\r\n\r\n".encode(),
    )
    raw(server, f"GET /x?token={TOKEN} HTTP/9.9\r\n\r\n".encode())
    assert "GET /preview?token=(hidden)" in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_log_files_are_private_also_after_rotation(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "vcamswap.log"
    previous = os.umask(0o022)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        setup_logging("INFO", log_file, max_bytes=10_000, backups=2)
        for index in range(300):
            logging.getLogger("vcamswap.test").info("line %d %s", index, "x" * 80)
    finally:
        for handler in list(root.handlers):
            handler.close()
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        os.umask(previous)
    files = sorted(log_file.parent.iterdir())
    assert len(files) == 3
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
