"""Shutdown: 50 start/signal cycles of the supervisor with the live content monitor running
the real NudeNet model (checks back to back, so a signal lands mid-inference), stopped the
daemon's way (run_daemon's SIGINT/SIGTERM handler, then the monitor joined). Every worker
thread ends, and the process exits 0 with no native abort."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vcamswap.safety.content import ContentVerdict, LiveContentMonitor

ROOT = Path(__file__).resolve().parent.parent

CYCLES = textwrap.dedent("""
    import os, random, signal, sys, threading, time
    from tests.fakes import CardRenderer, PixelSink, ScriptedSource
    from vcamswap.daemon.builders import run_daemon
    from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
    from vcamswap.processors.base import PassthroughProcessor
    from vcamswap.safety.content import LiveContentMonitor, nudenet_classifier

    classifier = nudenet_classifier()
    rng = random.Random(22)
    busy = 0
    for cycle in range(int(sys.argv[1])):
        supervisor = Supervisor(ScriptedSource(fps=60.0, width=320, height=240),
                                PassthroughProcessor(), PixelSink(), CardRenderer(),
                                options=PipelineOptions(default_size=(320, 240)))
        monitor = LiveContentMonitor(classifier, supervisor.last_input, lambda v: None,
                                     supervisor.stop_event, interval_s=0.001)
        monitor.start()
        number = signal.SIGINT if cycle % 2 else signal.SIGTERM
        threading.Timer(rng.uniform(0.05, 0.25), os.kill, (os.getpid(), number)).start()
        run_daemon(supervisor, status_every_s=60.0)
        assert monitor.close(), "the content thread ended"
        busy += monitor.checks > 0
        time.sleep(0.01)  # the Timer thread finishes
        alive = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        assert alive == [], (cycle, alive)
    print(f"cycles {int(sys.argv[1])} busy {busy}", flush=True)
""")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to oneself is POSIX")
def test_50_start_signal_cycles_with_the_content_monitor_end_cleanly(tmp_path: Path) -> None:
    script = tmp_path / "cycles.py"
    script.write_text(CYCLES)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VCAMSWAP_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, str(script), "50"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "terminate called" not in done.stderr and "Fatal Python error" not in done.stderr
    cycles, busy = done.stdout.split()[1], int(done.stdout.split()[3])
    assert cycles == "50" and busy >= 40, done.stdout


def test_close_joins_the_monitor_thread_while_a_check_is_running() -> None:
    import threading

    import numpy as np

    started, release = threading.Event(), threading.Event()

    class SlowClassifier:
        def classify(self, image: object) -> ContentVerdict:
            started.set()
            release.wait(0.3)  # a check under way when close is called
            return ContentVerdict(False)

    stop = threading.Event()
    monitor = LiveContentMonitor(
        SlowClassifier(),
        lambda: np.zeros((8, 8, 3), np.uint8),
        lambda v: None,
        stop,
        interval_s=0.001,
    )
    monitor.start()
    assert started.wait(5)
    assert monitor.close(timeout=5)
    assert not any(t.name == "vcamswap-content" for t in threading.enumerate())
    assert monitor.checks == 1
