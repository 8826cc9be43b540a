"""Logging setup: console plus a rotating file in the user log folder; a rate limiter for loops."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import threading
import time
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Log files readable by their owner only (0600), the first one and every rotated one;
    an older file with a wider mode is narrowed when opened."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
        stream = open(fd, "a", encoding=self.encoding, errors=self.errors)  # noqa: SIM115
        assert isinstance(stream, io.TextIOWrapper)
        return stream


def setup_logging(
    level: str, log_file: Path | None, max_bytes: int = 1_000_000, backups: int = 3
) -> None:
    """Configure the root logger once, from the CLI. A log file that cannot be opened is skipped
    with a warning rather than stopping the program."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handler = PrivateRotatingFileHandler(
                log_file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
            )
        except OSError as exc:
            root.warning(
                "cannot write the log file %s (%s); logging to the console only", log_file, exc
            )
        else:
            handler.setFormatter(logging.Formatter(FORMAT))
            root.addHandler(handler)


class RateLimitedLog:
    """Logs a repeated message at most once per ``interval`` seconds, counting the suppressed."""

    def __init__(self, logger: logging.Logger, interval: float = 5.0) -> None:
        self._logger = logger
        self._interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def log(
        self, level: int, key: str, message: str, *args: object, exc_info: bool = False
    ) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return
            suppressed = self._suppressed.pop(key, 0)
            self._last[key] = now
        if suppressed:
            message += f" ({suppressed} similar messages suppressed)"
        self._logger.log(level, message, *args, exc_info=exc_info)
