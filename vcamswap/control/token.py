"""The control API's shared secret: a random token in a file only the user can read."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_token(path: Path) -> str:
    """Create a new random token in ``path`` with mode 0600 and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return token


def read_token(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip() or None
    except OSError:
        return None
