"""Camera modes: manual and on-demand pause the camera; paused output is slow and cheap."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from tests.fakes import CardRenderer, RecordingSink, ScriptedSource, wait_for
from vcamswap.controls import DaemonControls
from vcamswap.devices.readers import ProcReaderCount
from vcamswap.pipeline.demand import DemandController
from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
from vcamswap.processors.base import PassthroughProcessor
from vcamswap.runtime import RuntimeState, Toggles


def test_reader_count_from_proc(tmp_path: Path) -> None:
    device = tmp_path / "dev" / "video10"
    device.parent.mkdir()
    device.write_text("")
    proc = tmp_path / "proc"
    for pid, target in ((100, device), (200, tmp_path / "other"), (300, device)):
        fd = proc / str(pid) / "fd"
        fd.mkdir(parents=True)
        os.symlink(target, fd / "7")
    (proc / "self").mkdir()
    assert ProcReaderCount(str(device), proc, me=300).count() == 1, "our own handle is ignored"
    assert ProcReaderCount(str(device), proc, me=1).count() == 2


def test_on_demand_opens_with_a_reader_and_closes_after_the_grace() -> None:
    readers = [0]
    state = RuntimeState(Toggles(paused=True))
    stop = threading.Event()
    DemandController(lambda: readers[0], state, stop, grace=0.3, interval=0.05).start()
    try:
        time.sleep(0.2)
        assert state.get().paused
        readers[0] = 1
        assert wait_for(lambda: not state.get().paused, 1.0)
        readers[0] = 0
        time.sleep(0.15)
        assert not state.get().paused, "still inside the grace period"
        assert wait_for(lambda: state.get().paused, 1.0)
    finally:
        stop.set()


def test_manual_mode_starts_closed_and_enable_opens_the_camera_quickly() -> None:
    source = ScriptedSource(fps=30.0)
    sink = RecordingSink()
    state = RuntimeState(Toggles(paused=True))
    supervisor = Supervisor(source, PassthroughProcessor(), sink, CardRenderer(), state=state,
                            options=PipelineOptions(default_size=(64, 48)))
    supervisor.start()
    try:
        time.sleep(1.0)
        assert source.opened == 0, "the camera stays closed while paused"
        sent = len(sink.snapshot())
        assert 1 <= sent <= 4, f"paused placeholder is slow (~2 fps), sent {sent} in 1 s"
        assert set(sink.snapshot()) == {201}
        controls = DaemonControls(supervisor, lambda n: Path("x"), list, None, "lite")
        enabled = time.monotonic()
        controls.set_swap_enabled(True)
        assert wait_for(lambda: sink.snapshot()[-1] not in (200, 201), 1.5)
        assert time.monotonic() - enabled < 1.5
        assert source.opened == 1
    finally:
        supervisor.stop()
