"""Doctor and `vcamswap run` on a simulated Windows and macOS (see test_portability.py): what
doctor tells the user there, and the daemon path with the default config to its first frame.
Nothing here was run on Windows or macOS."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.portability_fakes import (
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
from vcamswap.config import AppPaths
from vcamswap.devices.sinks import shown_camera_name
from vcamswap.platforms import OsName, Platform, for_os
from vcamswap.platforms.cameras import (
    CONSENT_KEY,
    MacCameraPermission,
    WindowsCameraPermission,
    macos_cameras,
    windows_cameras,
)

pytestmark = pytest.mark.portability
WEBCAMS = ["Integrated Webcam", "Logitech HD Pro Webcam C920", "OBS Virtual Camera"]


@pytest.fixture
def virtual(monkeypatch: pytest.MonkeyPatch) -> type[VirtualBackend]:
    return fake_virtual_cameras(monkeypatch)


def doctor(platform: Platform, tmp_path: Path) -> dict[str, dict[str, str]]:
    from vcamswap.tools.doctor import run_doctor

    checks = list(run_doctor(AppPaths.under(tmp_path / "home"), platform))
    return {check.name: check.to_dict() for check in checks}


def test_doctor_on_windows_names_the_camera_to_pick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VCAMSWAP_AUTOSTART", raising=False)
    registry = FakeRegistry({("HKCU", rf"{CONSENT_KEY}\webcam"): "Deny"})
    checks = doctor(
        for_os(
            "win32",
            cameras=lambda: windows_cameras(loader(pygrabber(WEBCAMS))),
            permission=WindowsCameraPermission(loader({"winreg": registry})),
        ),
        tmp_path,
    )
    assert checks["cameras"]["message"] == "0 'Integrated Webcam', 1 'Logitech HD Pro Webcam C920'"
    assert checks["virtual-camera"]["level"] == "OK"
    assert "pick the camera named 'OBS Virtual Camera'" in checks["virtual-camera"]["message"]
    assert checks["camera-permission"]["level"] == "FAIL"
    assert "Let desktop apps access your camera" in checks["camera-permission"]["fix"]
    text = repr(checks)
    assert "LD_LIBRARY_PATH" not in text and "modprobe" not in text and "DISPLAY" not in text


def test_doctor_on_macos_without_pyobjc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("VCAMSWAP_AUTOSTART", raising=False)
    no_pyobjc = loader({})
    checks = doctor(
        for_os(
            "darwin",
            cameras=lambda: macos_cameras(no_pyobjc),
            permission=MacCameraPermission(no_pyobjc),
        ),
        tmp_path,
    )
    assert checks["cameras"]["level"] == "WARN" and "pyobjc" in checks["cameras"]["message"]
    assert "'OBS Virtual Camera'" in checks["virtual-camera"]["message"]
    assert "system extension" in checks["virtual-camera"]["fix"]
    assert "System Settings > Privacy & Security > Camera" in checks["camera-permission"]["fix"]
    assert checks["autostart"]["message"] == "macos: disabled"
    assert "LD_LIBRARY_PATH" not in repr(checks)


@pytest.fixture
def main_signals() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("os_name", ["win32", "darwin"])
def test_run_reaches_its_first_frame_with_the_default_config(
    os_name: OsName,
    tmp_path: Path,
    virtual: type[VirtualBackend],
    main_signals: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`vcamswap run` through its App on a simulated OS: default config (content check on,
    tray on), the test pattern for a webcam, fake pystray and virtual camera drivers; quit
    after the first frame reaches the virtual camera, through the tray's stop path."""
    from vcamswap.config import Config
    from vcamswap.daemon.app import App, RunOptions

    monkeypatch.setenv("HOME", str(tmp_path))
    appkit, signals = MainRunLoop(), NoUsr1Signals()
    main_only = {"icon", "title", "menu", "visible", "stop"} if os_name == "darwin" else set()
    record = TrayRecord(main_only)
    platform = for_os(
        os_name,
        load_tray=lambda: fake_pystray(record, appkit if os_name == "darwin" else None),
        signals=signals,
        dispatch=appkit.dispatch,
        cameras=list,
        environ={},
    )
    config = Config()
    config = config.model_copy(
        update={
            "control": config.control.model_copy(update={"enabled": False}),
            "safety": config.safety.model_copy(update={"consent_accepted": True}),
        }
    )
    paths = AppPaths.under(tmp_path / "home")
    app = App(RunOptions(camera="pattern"), paths, config, platform)

    def quit_after_first_frame() -> None:
        if virtual.first_frame.wait(60):
            deadline = time.monotonic() + 10
            while not record.titles and time.monotonic() < deadline:  # one tooltip refresh
                time.sleep(0.05)
            assert app.controls is not None
            app.controls.quit()

    threading.Thread(target=quit_after_first_frame, daemon=True).start()
    with caplog.at_level(logging.INFO):
        assert app.run() == 0
    assert app.controls is not None
    controls = app.controls
    supervisor = controls.supervisor
    assert virtual.frames, "a frame reached the virtual camera"
    expected = "VCamSwap" if os_name == "win32" else "OBS Virtual Camera"
    assert shown_camera_name(supervisor.sink) == expected
    logged = caplog.text + (paths.log_dir / "vcamswap.log").read_text()  # App sets up logging
    assert f"pick the camera named {expected!r}" in logged
    assert expected in controls.status()["output"]
    assert record.ran_on_main and record.stopped_in_time and record.violations == []
    assert any(f"in apps pick {expected!r}" in title for title in record.titles), "the tooltip"
    assert signals.installed == [], "the simulated OS never needed a signal handler"
