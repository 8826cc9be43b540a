"""A real `vcamswap run` in a subprocess below one VCAMSWAP_HOME, and `vcamswap ctl` against it
(the end-to-end tests drive the daemon as a user does)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from vcamswap.config import AppPaths


def ctl(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vcamswap", "ctl", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "VCAMSWAP_HOME": str(home)},
        check=False,
    )


def start_daemon(
    home: Path, run_args: list[str], log: IO[str], log_path: Path
) -> subprocess.Popen[bytes]:
    """`vcamswap run RUN_ARGS` writing to ``log``; returns once its control API is up (the
    port file exists), failing with the log when the daemon exits first."""
    process = subprocess.Popen(
        [sys.executable, "-m", "vcamswap", "run", *run_args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "VCAMSWAP_HOME": str(home)},
    )
    port_file = AppPaths.under(home).port_file
    deadline = time.monotonic() + 60
    while not port_file.exists() and time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()
        time.sleep(0.2)
    return process
