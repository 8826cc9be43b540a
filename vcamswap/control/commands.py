"""The control API's commands (the CLI's `ctl`, the tray's menu items over HTTP)."""

from __future__ import annotations

from typing import Any

from vcamswap.control.api import Controls
from vcamswap.errors import VCamSwapError

MAX_FACE_NAME = 128


def dispatch(controls: Controls, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """The control API's JSON POSTs on ``controls``; None for an unknown path."""
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
