"""Windows and macOS behaviour, run here through an injected platform (``for_os``): the tray's
start and stop, AppKit's main thread, cameras by name, camera permission, the virtual camera's
name, login items, socket options, thread priority, doctor, and the daemon to its first frame.
Nothing here was run on Windows or macOS: the fakes follow the libraries' documented
behaviour (pystray, PyObjC, OpenCV's device order, pyvirtualcam)."""

from __future__ import annotations

import logging
import plistlib
import signal
import subprocess
import threading
from pathlib import Path, PureWindowsPath
from typing import Any

import cv2
import pytest

from tests.portability_fakes import (
    FakeAVFoundation,
    FakeRegistry,
    MainRunLoop,
    NoUsr1Signals,
    TrayRecord,
    VirtualBackend,
    fake_pystray,
    fake_virtual_cameras,
    loader,
    pygrabber,
)
from vcamswap.devices.sinks import VirtualCameraSink, shown_camera_name
from vcamswap.devices.sources import OpenCvCameraSource
from vcamswap.errors import DeviceError
from vcamswap.platforms import CameraListError, Platform, for_os
from vcamswap.platforms.cameras import (
    CONSENT_KEY,
    MacCameraPermission,
    WindowsCameraPermission,
    linux_cameras,
    macos_cameras,
    windows_cameras,
)
from vcamswap.platforms.system import (
    PRIO_DARWIN_BG,
    PRIO_DARWIN_THREAD,
    WINSOCK_SO_EXCLUSIVEADDRUSE,
    WINSOCK_SOL_SOCKET,
    listen_options,
    login_command,
    lower_thread_priority,
)
from vcamswap.tray.icon import run_tray

pytestmark = pytest.mark.portability
WEBCAMS = ["Integrated Webcam", "Logitech HD Pro Webcam C920", "OBS Virtual Camera"]


class StubControls:
    """Controls as the tray reads them; ``quit`` is left to the test's stop event."""

    def __init__(self, camera: str = "VCamSwap") -> None:
        self.camera = camera

    def status(self) -> dict[str, Any]:
        return {
            "state": "running",
            "output_fps": 30.0,
            "face": "alice",
            "output": f"virtual camera {self.camera!r}",
        }

    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


def run_tray_on(platform: Platform, stop_after_s: float = 0.35) -> bool:
    stop = threading.Event()
    threading.Timer(stop_after_s, stop.set).start()
    return run_tray(StubControls(), (), stop, platform, refresh_s=0.05)


def test_windows_tray_starts_and_stops_without_sigusr1() -> None:
    record, signals = TrayRecord(main_only=set()), NoUsr1Signals()
    platform = for_os("win32", load_tray=lambda: fake_pystray(record), signals=signals)
    assert run_tray_on(platform) is True
    assert record.ran_on_main and record.stopped_in_time, "stop() ended icon.run()"
    assert signals.installed == [], "no signal handler is installed on Windows"
    assert record.count("stop") == 1 and record.count("title") >= 2
    assert "in apps pick 'VCamSwap'" in record.titles[-1]


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="Linux's stop path uses SIGUSR1")
def test_linux_tray_stop_reaches_the_main_thread_through_sigusr1() -> None:
    record = TrayRecord(main_only={"stop"})  # pystray's X11 loop stops only from its thread
    before = signal.getsignal(signal.SIGUSR1)
    assert run_tray_on(for_os("linux", load_tray=lambda: fake_pystray(record))) is True
    assert record.stopped_in_time and record.violations == []
    assert signal.getsignal(signal.SIGUSR1) == before, "the previous handler is restored"


def test_macos_tray_updates_and_stop_run_on_the_main_thread() -> None:
    record, appkit = (
        TrayRecord(main_only={"icon", "title", "menu", "visible", "stop"}),
        MainRunLoop(),
    )
    platform = for_os(
        "darwin", load_tray=lambda: fake_pystray(record, appkit), dispatch=appkit.dispatch
    )
    assert run_tray_on(platform) is True
    assert record.stopped_in_time and record.violations == []
    assert record.count("title") >= 2 and record.count("visible") == 1
    assert record.count("menu") >= 2 and record.count("stop") == 1
    assert "vcamswap-tray" in appkit.dispatched_from, "the refresh thread queued its calls"


def test_the_main_thread_check_catches_background_appkit_calls() -> None:
    """The same strict fake with inline updates (what ran on macOS before) flags them."""
    record = TrayRecord(main_only={"title", "menu"})
    assert (
        run_tray_on(
            for_os("win32", load_tray=lambda: fake_pystray(record), signals=NoUsr1Signals())
        )
        is True
    )
    assert "title" in record.violations and "menu" in record.violations


def test_a_missing_tray_library_degrades_to_no_tray(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Any:
        raise ImportError("No module named 'AppKit'")

    with caplog.at_level(logging.WARNING):
        assert run_tray_on(for_os("darwin", load_tray=broken), 0.01) is False
    assert "no tray icon" in caplog.text and "AppIndicator" not in caplog.text


class Opened:
    def __init__(self) -> None:
        self.calls: list[tuple[int | str, int]] = []
        self.props: dict[int, float] = {}
        self.sets: list[int] = []

    def __call__(self, device: int | str, backend: int) -> Opened:
        self.calls.append((device, backend))
        return self

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def get(self, prop: int) -> float:
        return self.props.get(prop, 0.0)

    def set(self, prop: int, value: float) -> bool:
        self.sets.append(prop)
        self.props[prop] = value
        return True

    def release(self) -> None:
        return None


def test_windows_camera_name_opens_its_directshow_index() -> None:
    platform = for_os("win32", cameras=lambda: windows_cameras(loader(pygrabber(WEBCAMS))))
    capture = Opened()
    source = OpenCvCameraSource("C920", 640, 480, 30, capture_factory=capture, platform=platform)
    source.open()
    assert capture.calls == [(1, cv2.CAP_DSHOW)]
    capture.props.update(
        {cv2.CAP_PROP_FRAME_WIDTH: 640, cv2.CAP_PROP_FRAME_HEIGHT: 480, cv2.CAP_PROP_FPS: 30}
    )
    capture.sets.clear()
    source.close()
    source.open()
    assert capture.sets == [], "nothing is set that the driver already has"


def test_macos_camera_names_follow_opencvs_unique_id_order() -> None:
    av = FakeAVFoundation(
        video=[
            ("0x1420000005ac8600", "FaceTime HD Camera"),
            ("0x0100000046d082d", "C920 HD Pro Webcam"),
        ],
        muxed=[("0x0000000011110000", "Elgato Cam Link")],
    )
    cameras = macos_cameras(loader({"AVFoundation": av}))
    assert [(c.index, c.name) for c in cameras] == [
        (0, "Elgato Cam Link"),
        (1, "C920 HD Pro Webcam"),
        (2, "FaceTime HD Camera"),
    ]
    platform = for_os(
        "darwin",
        cameras=lambda: cameras,
        environ={},
        permission=MacCameraPermission(loader({"AVFoundation": av})),
    )
    capture = Opened()
    OpenCvCameraSource("facetime", 1280, 720, 30, capture_factory=capture, platform=platform).open()
    assert capture.calls == [(2, cv2.CAP_AVFOUNDATION)]


def test_a_name_matching_no_camera_lists_the_cameras_found(tmp_path: Path) -> None:
    win = for_os("win32", cameras=lambda: windows_cameras(loader(pygrabber(WEBCAMS[:1]))))
    source = OpenCvCameraSource("C920", 640, 480, 30, capture_factory=Opened(), platform=win)
    with pytest.raises(
        DeviceError,
        match=r"no camera named 'C920': the cameras found are "
        r"0 'Integrated Webcam'",
    ):
        source.open()
    (tmp_path / "video2").mkdir()
    (tmp_path / "video2" / "name").write_text("HD Pro Webcam C920\n")
    linux = for_os("linux", cameras=lambda: linux_cameras(tmp_path))
    assert linux.find_camera("c920") == "/dev/video2"
    with pytest.raises(DeviceError, match="'HD Pro Webcam C920'"):
        linux.find_camera("Brio")
    with pytest.raises(DeviceError, match="no camera was found"):
        for_os("darwin", cameras=list).find_camera("C920")


def test_cameras_that_cannot_be_listed_say_what_to_install() -> None:
    with pytest.raises(CameraListError, match="pip install pygrabber"):
        windows_cameras(loader({}))
    with pytest.raises(CameraListError, match="pyobjc-framework-AVFoundation"):
        macos_cameras(loader({}))
    assert (
        OpenCvCameraSource("rtsp://cam/1", 640, 480, 30, platform=for_os("win32"))._resolve()
        == "rtsp://cam/1"
    ), "URLs are not names"


def test_macos_asks_for_camera_permission_on_the_main_thread_only() -> None:
    av, environ = FakeAVFoundation(video=[], status=0), dict[str, str]()
    platform = for_os(
        "darwin",
        environ=environ,
        cameras=list,
        permission=MacCameraPermission(loader({"AVFoundation": av})),
    )
    worker = threading.Thread(
        target=OpenCvCameraSource, args=(0, 640, 480, 30), kwargs={"platform": platform}
    )
    worker.start()
    worker.join()
    assert av.requests == [], "a capture thread cannot show the prompt"
    OpenCvCameraSource(0, 640, 480, 30, platform=platform)
    assert av.requests == [True] and environ["OPENCV_AVFOUNDATION_SKIP_AUTH"] == "1"
    av.status = 2
    closed = Opened()
    closed.isOpened = lambda: False  # type: ignore[method-assign]
    with pytest.raises(DeviceError, match="Privacy & Security > Camera"):
        OpenCvCameraSource(0, 640, 480, 30, capture_factory=closed, platform=platform).open()


def test_windows_camera_privacy_switches_are_read() -> None:
    user, desktop = rf"{CONSENT_KEY}\webcam", rf"{CONSENT_KEY}\webcam\NonPackaged"

    def state(values: dict[tuple[str, str], str]) -> str:
        return WindowsCameraPermission(loader({"winreg": FakeRegistry(values)})).state()

    assert state({("HKCU", user): "Allow", ("HKCU", desktop): "Allow"}) == "granted"
    assert state({("HKCU", user): "Allow", ("HKCU", desktop): "Deny"}) == "denied"
    assert state({("HKLM", user): "Deny", ("HKCU", user): "Allow"}) == "denied"
    assert state({}) == "unknown"


@pytest.fixture
def virtual(monkeypatch: pytest.MonkeyPatch) -> type[VirtualBackend]:
    return fake_virtual_cameras(monkeypatch)


def test_windows_virtual_camera_is_unity_capture_named_vcamswap(
    virtual: type[VirtualBackend], caplog: pytest.LogCaptureFixture
) -> None:
    sink = VirtualCameraSink(width=64, height=48, fps=30, platform=for_os("win32"))
    assert sink.camera_name == "VCamSwap", "what the first choice gives, before opening"
    with caplog.at_level(logging.INFO):
        sink.open()
    assert virtual.opened == [("unitycapture", "VCamSwap")]
    assert shown_camera_name(sink) == "VCamSwap" and sink.description == "virtual camera 'VCamSwap'"
    assert "pick the camera named 'VCamSwap'" in caplog.text


def test_windows_falls_back_to_obs_and_names_it(virtual: type[VirtualBackend]) -> None:
    virtual.refuse.add("unitycapture")
    sink = VirtualCameraSink(width=64, height=48, fps=30, platform=for_os("win32"))
    sink.open()
    assert virtual.opened == [("obs", None)] and sink.camera_name == "OBS Virtual Camera"
    virtual.refuse.add("obs")
    with pytest.raises(DeviceError) as error:
        VirtualCameraSink(width=64, height=48, fps=30, platform=for_os("win32")).open()
    assert (
        "'unitycapture' backend: unitycapture is not installed; 'obs' backend: obs is not installed"
    ) in str(error.value)
    assert "/i:UnityCaptureName=VCamSwap" in str(error.value) and "OBS" in str(error.value)


def test_macos_virtual_camera_is_obs(virtual: type[VirtualBackend]) -> None:
    sink = VirtualCameraSink(width=64, height=48, fps=30, platform=for_os("darwin"))
    assert sink.camera_name == "OBS Virtual Camera"
    sink.open()
    assert virtual.opened == [("obs", None)] and sink.camera_name == "OBS Virtual Camera"
    assert for_os("linux").virtual_camera_plan("VCamSwap", None, lambda n: "/dev/video10") == [
        ("v4l2loopback", "/dev/video10")
    ], "Linux keeps its loopback device"


def test_login_items_per_os(tmp_path: Path) -> None:
    scripts = PureWindowsPath(r"C:\Users\Ada Lovelace\vcam env\Scripts")
    present = {scripts / "pythonw.exe"}
    command = login_command("win32", scripts / "python.exe", exists=present.__contains__)
    assert command == [str(scripts / "pythonw.exe"), "-m", "vcamswap", "run", "--at-login"]
    present.add(scripts / "vcamswapw.exe")
    command = login_command("win32", scripts / "python.exe", exists=present.__contains__)
    assert command == [str(scripts / "vcamswapw.exe"), "run", "--at-login"]
    from tests.test_autostart import FakeWinreg
    from vcamswap.autostart.backends import RUN_KEY, MacAutostart, WindowsAutostart

    registry = FakeWinreg()
    WindowsAutostart(registry, [*command, "--face", 'say "hi"']).enable()
    assert (
        registry.values[(RUN_KEY, "VCamSwap")]
        == (
            r'"C:\Users\Ada Lovelace\vcam env\Scripts\vcamswapw.exe" run --at-login --face '
            r'"say \"hi\""'
        )
        == subprocess.list2cmdline([*command, "--face", 'say "hi"'])
    )
    mac = login_command(
        "darwin", Path("/Users/ada/venv/bin/python3"), exists=lambda p: p.name == "vcamswap"
    )
    assert mac == ["/Users/ada/venv/bin/vcamswap", "run", "--at-login"]
    (plist,) = MacAutostart(tmp_path, mac, tmp_path / "Logs" / "vcamswap").enable()
    data = plistlib.loads(plist.read_bytes())
    assert data["ProgramArguments"] == mac and data["RunAtLoad"] is True
    assert Path(data["StandardErrorPath"]).parent.is_dir(), "launchd does not create it"


def test_control_socket_options_per_os() -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from vcamswap.control.http import bind_loopback

    assert listen_options("win32") == [(WINSOCK_SOL_SOCKET, WINSOCK_SO_EXCLUSIVEADDRUSE, 1)]
    assert WINSOCK_SO_EXCLUSIVEADDRUSE == -5, "winsock2.h: ((int)(~SO_REUSEADDR)), SO_REUSEADDR 4"
    import socket

    assert listen_options("darwin") == [(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)]
    seen: list[tuple[int, int, int]] = []

    class Recording(ThreadingHTTPServer):
        """Records setsockopt on its socket (Winsock's values mean nothing to Linux)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            real = self.socket
            self.socket = type(
                "Sock",
                (),
                {
                    "setsockopt": lambda _s, *a: seen.append(a),
                    "close": lambda _s: real.close(),
                    "fileno": lambda _s: real.fileno(),
                },
            )()

        def server_bind(self) -> None:
            seen.append((-1, -1, int(self.allow_reuse_address)))

        def server_activate(self) -> None:
            return None

    bind_loopback(0, BaseHTTPRequestHandler, for_os("win32"), Recording).server_close()
    assert seen == [(WINSOCK_SOL_SOCKET, -5, 1), (-1, -1, 0)], "exclusive, set before bind"
    first = bind_loopback(0, BaseHTTPRequestHandler, for_os("linux"))
    try:
        with pytest.raises(OSError):
            bind_loopback(first.server_address[1], BaseHTTPRequestHandler, for_os("linux"))
    finally:
        first.server_close()


def test_content_monitor_priority_per_os() -> None:
    calls: list[tuple[Any, ...]] = []

    def record(*args: int) -> None:
        calls.append(args)

    import os

    assert lower_thread_priority("linux", setpriority=record, native_id=lambda: 4242) == "nice 10"
    assert lower_thread_priority("darwin", setpriority=record) == "background thread"

    class Kernel32:
        def GetCurrentThread(self) -> int:  # noqa: N802 - Win32's name
            return -2

        def SetThreadPriority(self, handle: int, priority: int) -> int:  # noqa: N802
            calls.append(("SetThreadPriority", handle, priority))
            return 1

    assert lower_thread_priority("win32", kernel32=Kernel32) == "thread priority lowest"
    assert calls == [
        (getattr(os, "PRIO_PROCESS", 0), 4242, 10),
        (PRIO_DARWIN_THREAD, 0, PRIO_DARWIN_BG),
        ("SetThreadPriority", -2, -2),
    ]
