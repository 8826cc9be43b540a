"""A real Triton server for the remote tests: `vcamswap serve` run from its own environment
(numpy < 2, PyTriton), built on first use in .venv-serve next to the repository (or the Python
named by VCAMSWAP_SERVE_PYTHON)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "install" / "serve-requirements.txt"


def serve_python() -> Path:
    """The server environment's python, created (once) when missing."""
    named = os.environ.get("VCAMSWAP_SERVE_PYTHON")
    if named:
        return Path(named)
    venv = ROOT / ".venv-serve"
    python = venv / "bin" / "python"
    marker = venv / ".vcamswap-ready"
    if not marker.is_file() or marker.read_text() != REQUIREMENTS.read_text():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(ROOT)], check=True
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True
        )
        marker.write_text(REQUIREMENTS.read_text())
    return python


# Linux: the server gets SIGTERM when the test process dies (a killed pytest or CI job), which
# `vcamswap serve` turns into a clean stop of tritonserver and its stubs. Set in the new process
# itself, before it execs the server (a preexec_fn is unsafe in a threaded test process).
DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys; "
    "ctypes.CDLL('libc.so.6').prctl(1, signal.SIGTERM); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TritonProcess:
    """`vcamswap serve --models DIR` on loopback ports; start/stop/restart."""

    def __init__(
        self,
        models: Path,
        python: Path,
        max_batch: int = 8,
        extra: tuple[str, ...] = (),
        providers: str = "cpu",
    ) -> None:
        self.extra = extra
        self.providers = providers
        self.models = models
        self.python = python
        self.max_batch = max_batch
        self.grpc_port, self.http_port, self.metrics_port = free_port(), free_port(), free_port()
        self.process: subprocess.Popen[str] | None = None
        self._shm_before: set[str] = set()
        self.log: list[str] = []

    @property
    def url(self) -> str:
        return f"grpc://127.0.0.1:{self.grpc_port}"

    def start(self, timeout: float = 180.0) -> None:
        self._shm_before = set(_shm())
        env = {**os.environ, "VCAMSWAP_HOME": str(self.models.parent / "serve-home")}
        self.process = subprocess.Popen(
            [
                str(self.python),
                "-c",
                DIE_WITH_PARENT,
                str(self.python),
                "-m",
                "vcamswap",
                "serve",
                "--models",
                str(self.models),
                "--host",
                "127.0.0.1",
                "--grpc-port",
                str(self.grpc_port),
                "--http-port",
                str(self.http_port),
                "--metrics-port",
                str(self.metrics_port),
                "--providers",
                self.providers,
                "--max-batch",
                str(self.max_batch),
                *self.extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )  # its own group: tritonserver and stubs die with it
        assert self.process.stdout is not None
        ready = threading.Event()
        # A reader thread for the whole life of the process: it keeps the pipe from filling
        # (which would block the server), and the wait below keeps its deadline even when
        # the server goes quiet without printing "ready:" (a blocking readline would not).
        threading.Thread(target=self._drain, args=(self.process.stdout, ready), daemon=True).start()
        if ready.wait(timeout) and self.process is not None and self.process.poll() is None:
            return
        self.stop()
        raise RuntimeError("vcamswap serve did not become ready:\n" + "".join(self.log[-30:]))

    def _drain(self, stream: Any, ready: threading.Event) -> None:
        for line in stream:
            self.log.append(line)
            del self.log[:-200]
            # Not startswith: the server's stdout and stderr share this pipe, and a log write
            # from tritonserver's side can leave a partial line just before ours ("sready: ...")
            if "ready: " in line:
                ready.set()
        ready.set()  # the process ended: start() sees it and says so

    def terminate(self, timeout: float = 30.0) -> bool:
        """SIGTERM to `vcamswap serve` alone (as systemd or `kill` would); True when it and
        every process of its group (tritonserver, the stubs) are gone in time."""
        assert self.process is not None
        group = self.process.pid
        self.process.terminate()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.process.poll()  # reap it: a zombie would still count as a group member
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                self.process = None
                return True
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        """SIGTERM first (PyTriton and its stubs release their shared memory), SIGKILL only if
        the group is still there after 15 s, then any /dev/shm segment this server made and
        left behind is removed (two SIGKILLed benchmark runs left 30)."""
        if self.process is None:
            return
        pid = self.process.pid
        if not self.terminate(15.0):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            if self.process is not None:
                self.process.wait(10)
        self.process = None
        for name in sorted(set(_shm()) - self._shm_before):
            with contextlib.suppress(OSError):
                (SHM / name).unlink()
        # The ports are free again once the group is gone.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.grpc_port)) != 0:
                    return
            time.sleep(0.1)


SHM = Path("/dev/shm")


def _shm() -> list[str]:
    """The shared-memory segments now on this machine (none where /dev/shm does not exist)."""
    try:
        return [p.name for p in SHM.iterdir()]
    except OSError:
        return []
