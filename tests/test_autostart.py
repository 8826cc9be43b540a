"""Start at login: golden files, real validators, each platform's backend, CLI and tray item."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vcamswap.autostart import render
from vcamswap.autostart.backends import (
    RUN_KEY,
    LinuxAutostart,
    MacAutostart,
    WindowsAutostart,
    daemon_command,
)

GOLDEN = Path(__file__).parent / "golden"
COMMAND = ["/opt/vcamswap/bin/vcamswap", "run", "--at-login"]
NEEDS = pytest.mark.skipif(
    (
        (shutil.which("desktop-file-validate") is None or shutil.which("systemd-analyze") is None)
        and not os.environ.get("CI")
    )
    or not sys.platform.startswith("linux"),
    reason="needs desktop-file-utils and systemd (.ci/run installs them on Linux; in CI there "
    "it must run)",
)


def test_golden_files() -> None:
    assert render.desktop_entry(COMMAND) == (GOLDEN / "vcamswap.desktop").read_text()
    assert render.systemd_unit(COMMAND) == (GOLDEN / "vcamswap.service").read_text()
    assert (
        render.launchd_plist(COMMAND, "/Users/me/Library/Logs/vcamswap")
        == (GOLDEN / "com.vcamswap.daemon.plist").read_bytes()
    )


def test_exec_quoting_survives_spaces_and_specials() -> None:
    entry = render.desktop_entry(["/home/a b/venv/bin/vcamswap", "run", "--face", "100%"])
    assert 'Exec="/home/a b/venv/bin/vcamswap" run --face "100%%"' in entry
    unit = render.systemd_unit(["/home/a b/vcamswap", "run"])
    assert "ExecStart='/home/a b/vcamswap' run" in unit


@NEEDS
def test_linux_files_pass_the_real_validators(tmp_path: Path) -> None:
    (desktop,) = LinuxAutostart(tmp_path, daemon_command()).enable()
    result = subprocess.run(
        ["desktop-file-validate", str(desktop)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (unit,) = LinuxAutostart(
        tmp_path, daemon_command(), systemd=True, systemctl=lambda *_a: True
    ).enable()
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_linux_enable_status_disable(tmp_path: Path) -> None:
    backend = LinuxAutostart(tmp_path, COMMAND)
    assert not backend.enabled()
    assert backend.enable() == [tmp_path / "autostart" / "vcamswap.desktop"]
    assert backend.enabled()
    assert backend.disable() == [tmp_path / "autostart" / "vcamswap.desktop"]
    assert not backend.enabled() and backend.disable() == []


def test_linux_systemd_is_the_only_login_item_and_is_enabled(tmp_path: Path) -> None:
    """--systemd writes and enables the unit and removes the XDG entry (one thing starts the
    daemon at login); going back to the XDG entry disables and removes the unit."""
    calls: list[tuple[str, ...]] = []

    def systemctl(*args: str) -> bool:
        calls.append(args)
        return True

    LinuxAutostart(tmp_path, COMMAND, systemctl=systemctl).enable()
    backend = LinuxAutostart(tmp_path, COMMAND, systemd=True, systemctl=systemctl)
    assert backend.enable() == [backend.unit_file]
    assert not backend.desktop_file.exists()
    assert ("enable", "vcamswap.service") in calls
    assert backend.describe().startswith("systemd user unit")
    calls.clear()
    xdg = LinuxAutostart(tmp_path, COMMAND, systemctl=systemctl)
    assert xdg.enable() == [xdg.desktop_file]
    assert not xdg.unit_file.exists() and ("disable", "vcamswap.service") in calls
    assert xdg.describe().startswith("XDG autostart entry")


def test_macos_launch_agent(tmp_path: Path) -> None:
    backend = MacAutostart(tmp_path, COMMAND, tmp_path / "logs")
    (plist,) = backend.enable()
    data = plistlib.loads(plist.read_bytes())
    assert data["ProgramArguments"] == COMMAND and data["RunAtLoad"] is True
    assert backend.enabled() and backend.disable() and not backend.enabled()


class FakeWinreg:
    HKEY_CURRENT_USER, REG_SZ, KEY_SET_VALUE = "HKCU", 1, 2

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], Any] = {}

    class _Key:
        def __init__(self, path: str) -> None:
            self.path = path

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *args: object) -> None:
            return None

    def CreateKey(self, root: str, path: str) -> Any:  # noqa: N802 - winreg's names
        return self._Key(path)

    def OpenKey(self, root: str, path: str, *args: Any) -> Any:  # noqa: N802
        return self._Key(path)

    def SetValueEx(self, key: Any, name: str, _r: int, _t: int, value: str) -> None:  # noqa: N802
        self.values[(key.path, name)] = value

    def QueryValueEx(self, key: Any, name: str) -> Any:  # noqa: N802
        if (key.path, name) not in self.values:
            raise FileNotFoundError(name)
        return self.values[(key.path, name)], 1

    def DeleteValue(self, key: Any, name: str) -> None:  # noqa: N802
        if self.values.pop((key.path, name), None) is None:
            raise FileNotFoundError(name)


def test_windows_run_value() -> None:
    registry = FakeWinreg()
    backend = WindowsAutostart(registry, [r"C:\Program Files\VCamSwap\vcamswap.exe", "run"])
    backend.enable()
    assert registry.values[(RUN_KEY, "VCamSwap")] == (
        '"C:\\Program Files\\VCamSwap\\vcamswap.exe" run'
    )
    assert backend.enabled() and backend.disable() and not backend.enabled()
    assert backend.disable() == []


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="writes and parses the Linux XDG entry; "
    "Windows' Run value is tested in test_portability.py",
)
def test_autostart_cli_and_the_command_it_writes(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "VCAMSWAP_AUTOSTART": "linux",
        "XDG_CONFIG_HOME": str(tmp_path),
        "VCAMSWAP_HOME": str(tmp_path / "home"),
    }

    def cli(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "vcamswap", "autostart", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "disabled" in cli("status")
    assert "vcamswap.desktop" in cli("enable")
    exec_line = next(
        line
        for line in (tmp_path / "autostart" / "vcamswap.desktop").read_text().splitlines()
        if line.startswith("Exec=")
    )
    program = exec_line.removeprefix("Exec=").split(" ")[0].strip('"')
    assert Path(program).is_file(), "the installed vcamswap (or python) is resolved"
    assert "enabled" in cli("status")
    assert "removed" in cli("disable")


def test_login_item_starts_with_the_camera_closed() -> None:
    """--at-login: on-demand on Linux, manual elsewhere, unless camera.login_mode says."""
    from vcamswap.config.overrides import login_mode

    assert daemon_command()[-2:] == ["run", "--at-login"]
    assert login_mode("auto", "linux") == "on-demand"
    assert login_mode("auto", "win32") == "manual"
    assert login_mode("auto", "darwin") == "manual"
    assert login_mode("always", "linux") == "always"
