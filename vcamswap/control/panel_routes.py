"""The control panel's endpoints, served by the control server's handler once it has checked
Host, Origin and the session (see server.py): the page and its assets, the settings, the face
library and the checks."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from importlib import resources
from typing import Any, Protocol
from urllib.parse import parse_qs

from vcamswap.control.panel import MAX_UPLOAD, MAX_UPLOAD_MB, PANEL_SETTINGS, PanelBackend
from vcamswap.control.panel_page import render_panel
from vcamswap.errors import VCamSwapError
from vcamswap.i18n import _

ASSETS = {"/panel.css": "text/css; charset=utf-8", "/panel.js": "text/javascript; charset=utf-8"}
SETTING_KEYS = {s.key for s in PANEL_SETTINGS}


class Responder(Protocol):
    """What the routes need of the request handler."""

    def send_json(self, status: int, body: dict[str, Any]) -> None: ...

    def send_body(self, content_type: str, data: bytes, cache: bool = False) -> None: ...

    def refuse(self, status: HTTPStatus, message: str) -> None: ...

    def read_body(self, limit: int) -> bytes | None:
        """The request body, or None after refusing it (too large, bad length)."""

    def declared_size(self) -> int | None:
        """The request's Content-Length, when it is a number."""


def asset(name: str) -> bytes:
    return resources.files("vcamswap.control").joinpath("static").joinpath(name).read_bytes()


def handle_get(
    out: Responder,
    backend: PanelBackend | None,
    path: str,
    query: str,
    language: Callable[[], str],
) -> bool:
    """Answers a GET for the panel; False when ``path`` is not the panel's. ``language`` is
    asked only for the page (it reads the config file)."""
    if path in ("/panel", "/panel/"):
        out.send_body("text/html; charset=utf-8", render_panel(language()).encode("utf-8"))
    elif path in ASSETS:
        out.send_body(ASSETS[path], asset(path.lstrip("/")), cache=True)
    elif not path.startswith("/api/panel/"):
        return False
    elif backend is None:
        out.refuse(HTTPStatus.NOT_FOUND, _("this daemon has no control panel"))
    elif path == "/api/panel/faces":
        out.send_json(HTTPStatus.OK, {"faces": backend.faces()})
    elif path == "/api/panel/thumbnail":
        name = parse_qs(query).get("name", [""])[0]
        data = backend.face_thumbnail(name)
        if data is None:
            out.refuse(HTTPStatus.NOT_FOUND, _("no such face"))
        else:
            out.send_body("image/jpeg", data)
    elif path == "/api/panel/settings":
        out.send_json(HTTPStatus.OK, backend.settings())
    elif path == "/api/panel/checks":
        out.send_json(HTTPStatus.OK, {"checks": backend.checks(), "models": backend.models()})
    else:
        out.refuse(HTTPStatus.NOT_FOUND, _("no such endpoint {path}").format(path=path))
    return True


def add_face(out: Responder, backend: PanelBackend, query: str) -> dict[str, Any] | None:
    """An uploaded photo (the raw bytes; name and file name in the query) into the library;
    None when the body was refused."""
    fields = parse_qs(query)
    filename = fields.get("filename", ["photo.jpg"])[0]
    name = fields.get("name", [""])[0].strip() or None
    size = out.declared_size()
    if size is not None and size > MAX_UPLOAD:
        raise VCamSwapError(
            _("the photo is over {limit} MB: choose a smaller file").format(limit=MAX_UPLOAD_MB)
        )
    data = out.read_body(MAX_UPLOAD)
    if data is None:
        return None
    if not data:
        raise VCamSwapError(_("the upload was empty: choose a photo file"))
    return {"ok": True, "added": backend.add_face(filename, data, name)}


def dispatch_json(
    backend: PanelBackend | None, path: str, body: dict[str, Any]
) -> dict[str, Any] | None:
    """The panel's JSON POSTs: settings and face edits. None: not the panel's."""
    if backend is None:
        return None
    if path == "/api/panel/setting":
        key, value = body.get("key"), body.get("value")
        if not isinstance(key, str) or key not in SETTING_KEYS:
            raise VCamSwapError(_("unknown setting {key}").format(key=key))
        problems = backend.set_setting(key, value)
        return {"ok": not problems, "problems": problems, "settings": backend.settings()}
    if path == "/api/panel/faces/rename":
        old, new = body.get("name"), body.get("new_name")
        if not isinstance(old, str) or not isinstance(new, str) or not new.strip():
            raise VCamSwapError(_('send {"name": "OLD", "new_name": "NEW"}'))
        backend.rename_face(old, new.strip())
        return {"ok": True, "faces": backend.faces()}
    if path == "/api/panel/faces/remove":
        name = body.get("name")
        if not isinstance(name, str):
            raise VCamSwapError(_('send {"name": "FACE"}'))
        backend.remove_face(name)
        return {"ok": True, "faces": backend.faces()}
    return None
