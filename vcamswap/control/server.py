"""The control API on 127.0.0.1: JSON over HTTP, a token on every request, Host and Origin
checked (web pages cannot drive it, DNS rebinding included), request bodies limited.
The preview (an MJPEG page) reads the last output frame at a bounded rate on its own thread,
so it never slows the virtual camera."""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cv2

from vcamswap.control.api import Controls
from vcamswap.control.pages import ABOUT, PAGE
from vcamswap.errors import VCamSwapError
from vcamswap.platforms import Platform, current_platform

log = logging.getLogger(__name__)
MAX_BODY = 4096
READ_TIMEOUT_S = 10.0
"""A connection that sends nothing for this long is closed (it would hold a thread)."""
MAX_CONNECTIONS = 32
"""Connections served at once; more are answered 503 and closed at once."""
MAX_FACE_NAME = 128
SECRET = re.compile(r"(token=)[^&\s\"']*", re.IGNORECASE)


def bind_loopback(
    port: int,
    handler: type[BaseHTTPRequestHandler],
    platform: Platform,
    server: type[ThreadingHTTPServer] = ThreadingHTTPServer,
) -> ThreadingHTTPServer:
    """A listening HTTP server on 127.0.0.1 with this OS's socket options (Windows:
    SO_EXCLUSIVEADDRUSE, never SO_REUSEADDR, so a second daemon cannot share the port)."""
    httpd = server(("127.0.0.1", port), handler, bind_and_activate=False)
    httpd.allow_reuse_address = False  # the options below replace socketserver's SO_REUSEADDR
    try:
        for level, option, value in platform.listen_options():
            httpd.socket.setsockopt(level, option, value)
        httpd.server_bind()
        httpd.server_activate()
    except OSError:
        httpd.server_close()
        raise
    return httpd


class BoundedHTTPServer(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` at once: the next ones get a
    one-line 503 and are closed without a thread. Errors are one log line, never a
    traceback on stderr."""

    daemon_threads = True
    max_connections = MAX_CONNECTIONS

    def server_activate(self) -> None:
        self._slots = threading.BoundedSemaphore(self.max_connections)
        super().server_activate()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning("control: %d connections open; refusing one more", self.max_connections)
            body = json.dumps({"error": "too many connections to the control API"}).encode()
            try:
                request.settimeout(1.0)
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                    b"application/json\r\nConnection: close\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        error = sys.exc_info()[1]
        log.warning(
            "control: connection ended by %s",
            type(error).__name__ if error is None else f"{type(error).__name__}: {error}",
        )


class ControlServer:
    """Serves ``controls`` on 127.0.0.1:``port`` (0 = any free port) in a daemon thread. Nothing
    is bound until ``start`` (which raises OSError when the port is taken)."""

    def __init__(
        self,
        controls: Controls,
        token: str,
        port: int = 0,
        preview_fps: float = 10.0,
        platform: Platform | None = None,
    ) -> None:
        self.controls = controls
        self.token = token
        self.preview_interval = 1.0 / preview_fps
        self.stopping = threading.Event()
        self._requested_port = port
        self._platform = platform
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (after ``start``)."""
        if self._httpd is None:
            raise RuntimeError("the control server is not started")
        return int(self._httpd.server_address[1])

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"server_state": self})
        httpd = bind_loopback(
            self._requested_port, handler, self._platform or current_platform(), BoundedHTTPServer
        )
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, name="vcamswap-control", daemon=True
        )
        self._thread.start()
        log.info("control API on http://127.0.0.1:%d (token in the control.token file)", self.port)

    def stop(self) -> None:
        self.stopping.set()
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(5.0)


def redact(text: str) -> str:
    """``text`` with every ``token=...`` value hidden (request lines in the log)."""
    return SECRET.sub(r"\1(hidden)", text)


class _Handler(BaseHTTPRequestHandler):
    server_state: ControlServer
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT_S  # applied to the socket in setup(): idle connections end

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("control: %s", redact(fmt % args))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if int(code) >= 400 if isinstance(code, int) or str(code).isdigit() else False:
            return  # refusals are logged once, with the reason, by _refuse and send_error
        super().log_request(code, size)

    def log_error(self, fmt: str, *args: Any) -> None:
        log.info("control: %s", redact(fmt % args))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, header too long, timeouts) as the
        same one-line JSON error as ours."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        self.log_error("code %d, message %s", code, message or phrase)
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # HTTP/0.9 answers have no status line
        data = (json.dumps({"error": message or phrase}) + "\n").encode("utf-8")
        self.send_response_only(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(data)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _send_page(self, html: str) -> None:
        page = html.encode("utf-8")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def _refuse(self, status: HTTPStatus, message: str, level: int = logging.INFO) -> None:
        log.log(
            level,
            "control: %s %s refused: %d %s",
            self.command,
            redact(urlsplit(self.path).path),
            status,
            message,
        )
        self.close_connection = True
        self._send(status, {"error": message})

    def _allowed(self, url_token: str | None) -> bool:
        state = self.server_state
        host = self.headers.get("Host", "")
        if host not in (f"127.0.0.1:{state.port}", f"localhost:{state.port}"):
            self._refuse(
                HTTPStatus.FORBIDDEN,
                "bad Host header: the control API answers only requests to 127.0.0.1",
            )
            return False
        origin = self.headers.get("Origin")
        if origin is not None and origin not in (
            f"http://127.0.0.1:{state.port}",
            f"http://localhost:{state.port}",
        ):
            self._refuse(HTTPStatus.FORBIDDEN, "cross-origin requests are not allowed")
            return False
        given = (
            self.headers.get("Authorization", "").removeprefix("Bearer ").strip() or url_token or ""
        )
        if not hmac.compare_digest(given.encode(), state.token.encode()):
            self._refuse(
                HTTPStatus.UNAUTHORIZED,
                "missing or wrong token: read it from the "
                "control.token file (vcamswap ctl does this)",
            )
            return False
        return True

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        token = parse_qs(url.query).get("token", [None])[0]
        if not self._allowed(token):
            return
        if url.path == "/api/status":
            self._send(HTTPStatus.OK, self.server_state.controls.status())
        elif url.path == "/preview":
            self._send_page(PAGE.replace("TOKEN", self.server_state.token))
        elif url.path == "/about":
            self._send_page(ABOUT)
        elif url.path == "/preview.mjpg":
            self._stream()
        else:
            self._refuse(HTTPStatus.NOT_FOUND, f"no such endpoint {url.path}")

    def _stream(self) -> None:
        state = self.server_state
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.close_connection = True
        try:
            while not state.stopping.is_set():
                image = state.controls.preview_frame()
                if image is not None:
                    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
                    if ok:
                        data = jpeg.tobytes()
                        self.wfile.write(
                            b"--frame\r\nContent-Type: image/jpeg\r\n"
                            + f"Content-Length: {len(data)}\r\n\r\n".encode()
                            + data
                            + b"\r\n"
                        )
                        self.wfile.flush()
                time.sleep(state.preview_interval)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            return

    def do_POST(self) -> None:
        if not self._allowed(None):
            return
        length = self.headers.get("Content-Length")
        text = (length or "0").strip()
        size = int(text) if text.isascii() and text.isdigit() else -1
        if size < 0:  # -1, "12abc", non-ASCII digits: never read on
            self._refuse(HTTPStatus.BAD_REQUEST, "bad Content-Length: a number of bytes")
            return
        if size > MAX_BODY:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body over {MAX_BODY} bytes")
            return
        try:
            body = json.loads(self.rfile.read(size) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except RecursionError:
            self._refuse(
                HTTPStatus.BAD_REQUEST, "the body must be a JSON object (nested too deeply)"
            )
            return
        except ValueError as exc:
            self._refuse(HTTPStatus.BAD_REQUEST, f"the body must be a JSON object ({exc})")
            return
        path = urlsplit(self.path).path
        try:
            result = self._dispatch(path, body)
        except VCamSwapError as exc:
            self._refuse(HTTPStatus.BAD_REQUEST, " ".join(str(exc).split()))
            return
        except Exception as exc:
            self._refuse(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                f"{type(exc).__name__}: {' '.join(str(exc).split())}",
                logging.WARNING,
            )
            return
        if result is None:
            self._refuse(HTTPStatus.NOT_FOUND, f"no such endpoint {path}")
            return
        self._send(HTTPStatus.OK, result)

    def _dispatch(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        controls = self.server_state.controls
        if path in ("/api/enable", "/api/disable"):
            controls.set_swap_enabled(path == "/api/enable")
        elif path == "/api/face":
            name = body.get("name")
            if not isinstance(name, str) or not name:
                raise VCamSwapError('send {"name": "FACE"}')
            check_face_name(name)
            controls.set_source_face(name)
        elif path in ("/api/enhancer", "/api/mouth_mask"):
            on = body.get("on")
            if not isinstance(on, bool):
                raise VCamSwapError('send {"on": true} or {"on": false}')
            (controls.set_enhancer if path == "/api/enhancer" else controls.set_mouth_mask)(on)
        elif path == "/api/governor":
            mode, level = body.get("mode"), body.get("level", 0)
            if (
                mode not in ("auto", "off", "pinned")
                or not isinstance(level, int)
                or isinstance(level, bool)
            ):
                raise VCamSwapError(
                    'send {"mode": "auto"}, {"mode": "off"} or {"mode": "pinned", "level": N}'
                )
            controls.set_governor(mode, level)
        elif path == "/api/reload":
            problems = controls.reload()
            return {"ok": not problems, "problems": problems}
        elif path == "/api/quit":
            controls.quit()
        else:
            return None
        return {"ok": True, "status": controls.status()}


def check_face_name(name: str) -> None:
    """A face is named as `vcamswap faces list` shows it: no folders, no control characters,
    at most MAX_FACE_NAME characters (a path would reach files outside the faces folder)."""
    if len(name) > MAX_FACE_NAME:
        raise VCamSwapError(
            f"face name too long ({len(name)} characters, at most "
            f"{MAX_FACE_NAME}); see `vcamswap faces list`"
        )
    if any(c in name for c in "/\\") or name in (".", "..") or not name.isprintable():
        raise VCamSwapError(
            "a face name has no folder separators or control characters; see `vcamswap faces list`"
        )
