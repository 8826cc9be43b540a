"""Camera modes: manual and on-demand pause the camera; paused output is slow and cheap."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.fakes import CardRenderer, PixelSink, ScriptedSource, wait_for
from tests.helpers.v4l2 import pack_client_usage
from vcamswap.daemon.controls import DaemonControls
from vcamswap.devices.readers import ProcReaderCount
from vcamswap.pipeline.demand import DemandController
from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
from vcamswap.processors.base import PassthroughProcessor
from vcamswap.runtime import RuntimeState, Toggles


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="os.symlink needs a privilege on Windows; the /proc reader count is Linux-only",
)
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
    sink = PixelSink()
    state = RuntimeState(Toggles(paused=True))
    supervisor = Supervisor(
        source,
        PassthroughProcessor(),
        sink,
        CardRenderer(),
        state=state,
        options=PipelineOptions(default_size=(64, 48)),
    )
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads this machine's /proc")
def test_level_check_on_real_file_descriptors(tmp_path: Path) -> None:
    """The /proc scan on this machine's real /proc: another process opens the node."""
    import subprocess
    import sys

    node = tmp_path / "video10"
    node.write_bytes(b"")
    counter = ProcReaderCount(str(node))
    assert counter.count() == 0
    mine = os.open(node, os.O_RDONLY)
    try:
        assert counter.count() == 0, "the daemon's own descriptor is not a reader"
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import os,sys,time; fd=os.open({str(node)!r}, os.O_RDONLY); "
                "print('open', flush=True); sys.stdin.readline()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "open"
            assert counter.count() == 1
        finally:
            assert child.stdin is not None
            child.stdin.write("\n")
            child.stdin.close()
            child.wait(5)
        assert counter.count() == 0, "the reader left"
    finally:
        os.close(mine)


@pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="the Linux kernel's struct layout (c_long is 4 bytes on Windows)",
)
def test_client_usage_event_layout_matches_the_kernel() -> None:
    import ctypes
    import struct

    from vcamswap.devices import v4l2events as ev

    if ctypes.sizeof(ctypes.c_long) == 8:  # values from linux/videodev2.h on 64-bit
        assert ctypes.sizeof(ev.V4l2Event) == 136
        assert ev.VIDIOC_DQEVENT == 0x80885659
    assert ev.VIDIOC_SUBSCRIBE_EVENT == 0x4020565A
    assert ev.V4L2_EVENT_PRI_CLIENT_USAGE == 0x10E00001
    # A struct packed by hand at the kernel's 64-bit offsets: type@0, union@8, pending@72,
    # sequence@76, timestamp@80, id@96.
    if ctypes.sizeof(ctypes.c_long) == 8:
        raw = bytearray(136)
        struct.pack_into("=I", raw, 0, 0x10E00001)
        struct.pack_into("=I", raw, 8, 2)
        struct.pack_into("=II", raw, 72, 0, 7)
        assert ev.decode_client_usage(bytes(raw)) == 2
        struct.pack_into("=I", raw, 0, 0x08000001)  # another private event
        assert ev.decode_client_usage(bytes(raw)) is None
    assert ev.decode_client_usage(pack_client_usage(5, sequence=3)) == 5


class FakeLoopback:
    """A scripted v4l2loopback: queued events, a subscription that may be rejected."""

    def __init__(self, supported: bool = True) -> None:
        import collections

        self.supported = supported
        self.queue: collections.deque[bytes] = collections.deque()
        self.subscribed: list[int] = []
        self.closed: list[int] = []

    def ioctl(self, fd: int, request: int, buffer: bytearray) -> int:
        import errno

        from vcamswap.devices import v4l2events as ev

        if request == ev.VIDIOC_SUBSCRIBE_EVENT:
            if not self.supported:
                raise OSError(errno.EINVAL, "Invalid argument")
            self.subscribed.append(fd)
            return 0
        if request == ev.VIDIOC_UNSUBSCRIBE_EVENT:
            return 0
        if request == ev.VIDIOC_DQEVENT:
            if not self.queue:
                raise OSError(errno.ENOENT, "No such file or directory")
            raw = self.queue.popleft()
            # the kernel reports how many more are queued
            from vcamswap.devices.v4l2events import V4l2Event

            event = V4l2Event.from_buffer_copy(raw)
            event.pending = len(self.queue)
            buffer[:] = bytes(event)
            return 0
        raise AssertionError(hex(request))


def test_watcher_drains_events_and_reports_the_newest_count() -> None:
    from vcamswap.devices import v4l2events as ev

    fake = FakeLoopback()
    watcher = ev.ClientUsageWatcher(
        "/dev/video10",
        ioctl=fake.ioctl,
        poll=lambda fd, t: bool(fake.queue),
        opener=lambda path: 42,
        closer=fake.closed.append,
    )
    watcher.open()
    assert fake.subscribed == [42]
    assert watcher.wait(0.1) is None, "no event, timeout"
    fake.queue.extend([pack_client_usage(1), pack_client_usage(2), pack_client_usage(1)])
    assert watcher.wait(0.1) == 1, "the newest of three queued counts"
    assert not fake.queue
    watcher.close()
    assert fake.closed == [42]


def test_watcher_reports_an_old_module_so_the_level_check_takes_over() -> None:
    import pytest

    from vcamswap.devices import v4l2events as ev

    fake = FakeLoopback(supported=False)
    watcher = ev.ClientUsageWatcher(
        "/dev/video10",
        ioctl=fake.ioctl,
        poll=lambda fd, t: False,
        opener=lambda path: 7,
        closer=fake.closed.append,
    )
    with pytest.raises(ev.EventUnsupportedError, match="client-usage"):
        watcher.open()
    assert fake.closed == [7], "the descriptor is not leaked"


def test_events_wake_the_camera_and_the_level_check_corrects_lost_events() -> None:
    import queue

    events: queue.Queue[int] = queue.Queue()
    holders = [0]

    def wait(timeout: float) -> int | None:
        try:
            return events.get(timeout=timeout)
        except queue.Empty:
            return None

    state = RuntimeState(Toggles(paused=True))
    stop = threading.Event()
    DemandController(
        lambda: holders[0], state, stop, grace=0.3, interval=0.05, events=wait, level_every=0.2
    ).start()
    try:
        holders[0] = 1
        events.put(1)  # STREAMON
        assert wait_for(lambda: not state.get().paused, 0.5)
        # The app closes but the event is lost: the level check finds no holder.
        holders[0] = 0
        assert wait_for(lambda: state.get().paused, 1.5), "a lost close event is corrected"
        # An app starts streaming and the start event is lost: two level checks agree.
        holders[0] = 1
        assert wait_for(lambda: not state.get().paused, 1.5), "a lost start event is corrected"
    finally:
        stop.set()


def test_no_frame_is_read_while_paused_and_placeholders_keep_flowing() -> None:
    source = ScriptedSource(fps=30.0)
    sink = PixelSink()
    state = RuntimeState()
    supervisor = Supervisor(
        source,
        PassthroughProcessor(),
        sink,
        CardRenderer(),
        state=state,
        options=PipelineOptions(default_size=(64, 48)),
    )
    supervisor.start()
    try:
        assert wait_for(lambda: source.count > 5, 2.0)
        state.update(paused=True)
        assert wait_for(lambda: source.closed == 1, 1.0), "the camera closes when paused"
        read = source.count
        sent = len(sink.snapshot())
        time.sleep(1.2)
        assert source.count == read, "no frame read while paused"
        assert len(sink.snapshot()) - sent >= 2, "placeholder frames keep the device fed"
        assert sink.snapshot()[-1] == 201
    finally:
        supervisor.stop()
