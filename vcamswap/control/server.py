"""The control API on 127.0.0.1: JSON over HTTP, Host and Origin checked (other web pages
cannot drive it, DNS rebinding included), request bodies limited. Every request carries the
token (the CLI, the tray) or the control panel's session cookie; a state change by cookie must
also come from the panel's own origin. The preview streams (MJPEG) read the last frame at a
bounded rate on their own threads, so they never slow the virtual camera."""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from vcamswap.control import panel_routes
from vcamswap.control.api import Controls
from vcamswap.control.commands import dispatch
from vcamswap.control.http import BoundedHTTPServer, bind_loopback, write_mjpeg
from vcamswap.control.pages import ABOUT, PAGE
from vcamswap.control.panel import COOKIE, SESSION_TTL_S, PanelBackend, Sessions, session_cookie
from vcamswap.control.panel_page import render_refusal
from vcamswap.errors import VCamSwapError
from vcamswap.i18n import accepted_language, resolve_language
from vcamswap.platforms import Platform, current_platform

log = logging.getLogger(__name__)
MAX_BODY = 4096
READ_TIMEOUT_S = 10.0
"""A connection that sends nothing for this long is closed (it would hold a thread)."""
SECRET = re.compile(r"((?:token|code)=)[^&\s\"']*", re.IGNORECASE)
Auth = Literal["token", "session"]


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
        *,
        panel: PanelBackend | None = None,
        language: str = "auto",
    ) -> None:
        self.controls = controls
        self.panel = panel
        self.language = language
        """ui.language: "auto" lets each browser's Accept-Language choose."""
        self.sessions = Sessions()
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

    def panel_url(self) -> str:
        """A one-time login address for the control panel (valid for a minute)."""
        return f"http://127.0.0.1:{self.port}/login?code={self.sessions.issue_code()}"

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
        page = self._refusal_page()
        if page is None:
            self._send(status, {"error": message})
            return
        data = page.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _refusal_page(self) -> str | None:
        """A page in the reader's language instead of JSON, for a browser sent to the login
        link or the panel without a session."""
        path = urlsplit(self.path).path
        if (
            self.command != "GET"
            or path not in ("/login", "/panel", "/panel/", "/")
            or "text/html" not in self.headers.get("Accept", "")
        ):
            return None
        key = "link_expired" if path == "/login" else "login_needed"
        return render_refusal(self._language(), key)

    # What the panel routes need (panel_routes.Responder).
    def send_json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, body)

    def send_body(self, content_type: str, data: bytes, cache: bool = False) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "private, max-age=300" if cache else "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if content_type.startswith("text/html"):
            self.send_header("X-Frame-Options", "DENY")
            self.send_header(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' blob: data:; frame-ancestors 'none'",
            )
        self.end_headers()
        self.wfile.write(data)

    def refuse(self, status: HTTPStatus, message: str) -> None:
        self._refuse(status, message)

    def declared_size(self) -> int | None:
        text = (self.headers.get("Content-Length") or "").strip()
        return int(text) if text.isascii() and text.isdigit() else None

    def read_body(self, limit: int) -> bytes | None:
        text = (self.headers.get("Content-Length") or "0").strip()
        size = int(text) if text.isascii() and text.isdigit() else -1
        if size < 0:  # -1, "12abc", non-ASCII digits: never read on
            self._refuse(HTTPStatus.BAD_REQUEST, "bad Content-Length: a number of bytes")
            return None
        if size > limit:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body over {limit} bytes")
            return None
        return self.rfile.read(size)

    def _origins(self) -> tuple[str, str]:
        port = self.server_state.port
        return f"http://127.0.0.1:{port}", f"http://localhost:{port}"

    def _host_ok(self) -> bool:
        port = self.server_state.port
        if self.headers.get("Host", "") in (f"127.0.0.1:{port}", f"localhost:{port}"):
            return True
        self._refuse(
            HTTPStatus.FORBIDDEN,
            "bad Host header: the control API answers only requests to 127.0.0.1",
        )
        return False

    def _allowed(self, url_token: str | None) -> Auth | None:
        """How the request is authorised (the token or a panel session), or None (refused)."""
        state = self.server_state
        if not self._host_ok():
            return None
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self._origins():
            self._refuse(HTTPStatus.FORBIDDEN, "cross-origin requests are not allowed")
            return None
        given = (
            self.headers.get("Authorization", "").removeprefix("Bearer ").strip() or url_token or ""
        )
        if given and hmac.compare_digest(given.encode(), state.token.encode()):
            return "token"
        if not given and state.sessions.valid(session_cookie(self.headers.get("Cookie"))):
            # SameSite counts every port of 127.0.0.1 as the same site: a page served by another
            # local program could embed the video. Browsers say where a request comes from.
            fetched_from = self.headers.get("Sec-Fetch-Site", "same-origin")
            if fetched_from not in ("same-origin", "none") or (
                self.command == "POST" and (origin is None or fetched_from != "same-origin")
            ):
                self._refuse(HTTPStatus.FORBIDDEN, "the panel's requests come from its own page")
                return None
            return "session"
        self._refuse(
            HTTPStatus.UNAUTHORIZED,
            "missing or wrong token: read it from the control.token file (vcamswap ctl does "
            "this), or open the panel with `vcamswap ctl panel`",
        )
        return None

    def _language(self) -> str:
        state = self.server_state
        setting = state.panel.language() if state.panel is not None else state.language
        if setting == "auto" and self.headers.get("Accept-Language"):
            return accepted_language(self.headers.get("Accept-Language", ""))
        return resolve_language(setting)

    def _login(self, query: str) -> None:
        """Trades a one-time code for a session cookie and goes to the panel."""
        if not self._host_ok():
            return
        code = parse_qs(query).get("code", [""])[0]
        session = self.server_state.sessions.redeem(code) if code else None
        if session is None:
            self._refuse(
                HTTPStatus.FORBIDDEN,
                "this login link was used or has expired: open the panel again from the tray "
                "or with `vcamswap ctl panel`",
            )
            return
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header(
            "Set-Cookie",
            f"{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={int(SESSION_TTL_S)}",
        )
        self.send_header("Location", "/panel")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/login":
            self._login(url.query)
            return
        if url.path == "/about":  # licences and labels: nothing private
            if self._host_ok():
                self._send_page(ABOUT)
            return
        token = parse_qs(url.query).get("token", [None])[0]
        if self._allowed(token) is None:
            return
        state = self.server_state
        if url.path == "/api/status":
            self._send(HTTPStatus.OK, state.controls.status())
        elif url.path == "/preview":
            self._send_page(PAGE.replace("TOKEN", state.token))
        elif url.path == "/preview.mjpg":
            camera = parse_qs(url.query).get("view", [""])[0] == "camera"
            self._stream(camera)
        elif not panel_routes.handle_get(self, state.panel, url.path, url.query, self._language):
            self._refuse(HTTPStatus.NOT_FOUND, f"no such endpoint {url.path}")

    def _stream(self, camera: bool = False) -> None:
        state = self.server_state
        frame = (
            state.panel.camera_frame
            if camera and state.panel is not None
            else state.controls.preview_frame
        )
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.close_connection = True
        write_mjpeg(self.wfile, frame, state.stopping, state.preview_interval)

    def do_POST(self) -> None:
        auth = self._allowed(None)
        if auth is None:
            return
        url = urlsplit(self.path)
        state = self.server_state
        try:
            if url.path == "/api/panel/code":
                if auth != "token":
                    self._refuse(HTTPStatus.FORBIDDEN, "login codes need the control token")
                else:
                    self._send(HTTPStatus.OK, {"url": state.panel_url()})
                return
            if url.path == "/api/panel/faces/add" and state.panel is not None:
                result = panel_routes.add_face(self, state.panel, url.query)
                if result is not None:
                    self._send(HTTPStatus.OK, result)
                return
        except VCamSwapError as exc:
            self._refuse(HTTPStatus.BAD_REQUEST, " ".join(str(exc).split()))
            return
        raw = self.read_body(MAX_BODY)
        if raw is None:
            return
        try:
            body = json.loads(raw or b"{}")
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
        try:
            result = dispatch(state.controls, url.path, body)
            if result is None:
                result = panel_routes.dispatch_json(state.panel, url.path, body)
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
            self._refuse(HTTPStatus.NOT_FOUND, f"no such endpoint {url.path}")
            return
        self._send(HTTPStatus.OK, result)
