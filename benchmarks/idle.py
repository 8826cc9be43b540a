"""Idle cost and resume latency of a paused daemon (issue 12).

Starts `vcamswap run --camera-mode manual` (camera closed, placeholder at 2 fps) in a private
VCAMSWAP_HOME, reads the daemon's CPU time from /proc/PID/stat over ``--idle-s`` seconds, then
runs `vcamswap ctl enable` and polls `ctl status --json` until the first processed frame.

    python benchmarks/idle.py --runs 3 --idle-s 60
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vcamswap", "ctl", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_run(idle_s: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "VCAMSWAP_HOME": home}
        daemon = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vcamswap",
                "run",
                "--no-tray",
                "--camera-mode",
                "manual",
                "--camera",
                "pattern",
                "--output",
                "null",
                "--engine",
                "lite",
                "--accept-consent",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while ctl(env, "status", "--json").returncode != 0:
                if time.monotonic() > deadline:
                    raise RuntimeError("the daemon did not start")
                time.sleep(0.5)
            time.sleep(3.0)  # settle: sessions loaded, first placeholder sent
            before, start = cpu_seconds(daemon.pid), time.monotonic()
            time.sleep(idle_s)
            idle = (cpu_seconds(daemon.pid) - before) / (time.monotonic() - start) * 100.0
            enabled = time.monotonic()
            ctl(env, "enable")
            while json.loads(ctl(env, "status", "--json").stdout)["frames_processed"] == 0:
                if time.monotonic() - enabled > 30:
                    raise RuntimeError("no frame after enable")
                time.sleep(0.02)
            return idle, time.monotonic() - enabled
        finally:
            daemon.terminate()
            daemon.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle-s", type=float, default=60.0)
    args = parser.parse_args()
    results = [one_run(args.idle_s) for _ in range(args.runs)]
    for i, (idle, resume) in enumerate(results, 1):
        print(f"run {i}: idle CPU {idle:.2f} % of one core, enable -> first frame {resume:.2f} s")
    print(
        f"median: idle {statistics.median(r[0] for r in results):.2f} %, resume "
        f"{statistics.median(r[1] for r in results):.2f} s"
    )


if __name__ == "__main__":
    main()
