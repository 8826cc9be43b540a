"""The control panel's side of the control server: logins, sessions and what the panel may ask
of the daemon (a Protocol the daemon implements).

Login: the tray or `vcamswap ctl panel` asks for a one-time code (the token authorises that),
opens ``/login?code=...``, and the server trades the code for an HttpOnly, SameSite=Strict
session cookie and redirects to ``/panel``; the code is spent and expires after a minute, so
the address bar and the history hold nothing that opens the panel again."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from vcamswap.types import BgrImage

COOKIE = "vcamswap_session"
CODE_TTL_S = 60.0
SESSION_TTL_S = 12 * 3600.0
MAX_SESSIONS = 16
MAX_UPLOAD_MB = 25
MAX_UPLOAD = MAX_UPLOAD_MB * 1024 * 1024
"""The largest photo the panel uploads (a 24-megapixel JPEG is about 12 MB)."""


class Sessions:
    """One-time login codes and the sessions they open (in memory: a daemon restart logs the
    panel out). Thread-safe; ``clock`` is injected for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, float] = {}
        self._sessions: dict[str, float] = {}

    def issue_code(self) -> str:
        now = self._clock()
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes = {c: t for c, t in self._codes.items() if t > now}
            self._codes[code] = now + CODE_TTL_S
        return code

    def redeem(self, code: str) -> str | None:
        """A new session for an unspent, unexpired code; None otherwise. The code is spent."""
        now = self._clock()
        with self._lock:
            expires = None
            for known in list(self._codes):
                if hmac.compare_digest(known.encode(), code.encode()):
                    expires = self._codes.pop(known)
            if expires is None or expires <= now:
                return None
            live = sorted((t, s) for s, t in self._sessions.items() if t > now)
            self._sessions = {s: t for t, s in live[-(MAX_SESSIONS - 1) :]}
            session = secrets.token_urlsafe(32)
            self._sessions[session] = now + SESSION_TTL_S
            return session

    def valid(self, session: str | None) -> bool:
        if not session:
            return False
        now = self._clock()
        with self._lock:
            return any(
                hmac.compare_digest(known.encode(), session.encode()) and expires > now
                for known, expires in self._sessions.items()
            )


def session_cookie(header: str | None) -> str | None:
    """Our session id from a Cookie header."""
    for part in (header or "").split(";"):
        name, _sep, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting the panel shows: its config key, kind and choices (for a select)."""

    key: str
    kind: str  # "bool", "choice", "number"
    choices: tuple[str, ...] = ()
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05


PANEL_SETTINGS: tuple[Setting, ...] = (
    Setting("swap.enabled", "bool"),
    Setting("swap.engine", "choice", ("auto", "neural", "lite")),
    Setting("swap.enhancer", "bool"),
    Setting("swap.mouth_mask", "bool"),
    Setting("swap.opacity", "number", low=0.0, high=1.0, step=0.05),
    Setting("swap.sharpness", "number", low=0.0, high=1.0, step=0.05),
    Setting("swap.color_correction", "bool"),
    Setting("swap.on_face_lost", "choice", ("blur", "placeholder", "freeze", "passthrough")),
    Setting("governor.mode", "choice", ("auto", "off", "pinned")),
    Setting("camera.device", "choice"),
    Setting("camera.mirror", "bool"),
    Setting("camera.rotate", "choice", ("0", "90", "180", "270")),
    Setting("camera.zoom", "number", low=1.0, high=4.0, step=0.1),
    Setting("camera.mode", "choice", ("always", "on-demand", "manual")),
    Setting("safety.label.enabled", "bool"),
    Setting(
        "safety.label.position", "choice", ("bottom-right", "bottom-left", "top-right", "top-left")
    ),
    Setting("safety.label.scale", "number", low=0.5, high=3.0, step=0.1),
    Setting("ui.language", "choice", ("auto", "en", "de", "es", "fr", "pt_BR", "zh_CN", "ja")),
)
"""What the panel changes while live, in the order it shows them."""


@runtime_checkable
class PanelBackend(Protocol):
    """What the panel asks of the daemon beyond the Controls the tray uses. Errors a user can
    fix are VCamSwapError with the fix in the message (shown inline in the panel)."""

    def faces(self) -> list[dict[str, Any]]:
        """Each library face: name, active, added (a sha256 prefix)."""

    def face_thumbnail(self, name: str) -> bytes | None:
        """A small JPEG of the face, or None."""

    def add_face(self, filename: str, data: bytes, name: str | None) -> dict[str, Any]:
        """Validate the photo like `faces add` (decode, one clear face, the content check)
        and add it: {"name": ..., "notes": [...]}."""

    def rename_face(self, old: str, new: str) -> None: ...

    def remove_face(self, name: str) -> None: ...

    def settings(self) -> dict[str, Any]:
        """Each PANEL_SETTINGS key's current value, and "cameras": the devices found."""

    def set_setting(self, key: str, value: Any) -> list[str]:
        """Apply and save one setting through the config file and the reload path; the
        problems (empty when applied)."""

    def camera_frame(self) -> BgrImage | None:
        """The newest raw camera frame (the before view), or None."""

    def checks(self) -> list[dict[str, Any]]:
        """doctor's checks: name, ok, detail, fix."""

    def models(self) -> list[dict[str, Any]]:
        """The model catalog: name, present, licence."""

    def language(self) -> str:
        """ui.language as configured now ("auto" or a code)."""
