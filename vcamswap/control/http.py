"""The HTTP plumbing under the control server: a loopback listener with this OS's socket
options, and a threading server that bounds its connections and logs errors in one line."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from vcamswap.platforms import Platform
from vcamswap.types import BgrImage

log = logging.getLogger(__name__)
MAX_CONNECTIONS = 32
"""Connections served at once; more are answered 503 and closed at once."""


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


def write_mjpeg(
    out: Any, frame: Callable[[], BgrImage | None], stopping: threading.Event, interval: float
) -> None:
    """An MJPEG stream of ``frame()`` every ``interval`` seconds until ``stopping`` or the
    browser goes away (a bounded rate on the connection's own thread: never the camera's)."""
    import cv2

    try:
        while not stopping.is_set():
            image = frame()
            if image is not None:
                ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
                if ok:
                    data = jpeg.tobytes()
                    out.write(
                        b"--frame\r\nContent-Type: image/jpeg\r\n"
                        + f"Content-Length: {len(data)}\r\n\r\n".encode()
                        + data
                        + b"\r\n"
                    )
                    out.flush()
            time.sleep(interval)
    except (TimeoutError, BrokenPipeError, ConnectionResetError):
        return
