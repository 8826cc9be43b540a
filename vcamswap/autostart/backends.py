"""Login items per platform, chosen by a small factory (env override VCAMSWAP_AUTOSTART)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from vcamswap.autostart import render
from vcamswap.config.loader import write_bytes_atomic
from vcamswap.errors import VCamSwapError
from vcamswap.platforms import Platform, current_platform

log = logging.getLogger(__name__)


class Autostart(Protocol):
    name: str

    def enable(self) -> list[Path]: ...

    def disable(self) -> list[Path]: ...

    def enabled(self) -> bool: ...


def daemon_command(platform: Platform | None = None) -> list[str]:
    """The login item's command: the installed entry point resolved to a full path; on
    Windows the console-less ``vcamswapw.exe`` or ``pythonw.exe -m vcamswap``."""
    return (platform or current_platform()).login_command(which=shutil.which)


def _write(path: Path, data: bytes) -> Path:
    write_bytes_atomic(path, data)
    return path


def _systemctl(*args: str) -> bool:
    """``systemctl --user ARGS``; False when systemd is not there or refuses."""
    if not shutil.which("systemctl"):
        return False
    done = subprocess.run(["systemctl", "--user", *args], check=False, capture_output=True)
    return done.returncode == 0


@dataclass
class LinuxAutostart:
    """Exactly one login item: an XDG autostart entry (every desktop, tray included), or with
    ``systemd`` a systemd user unit bound to graphical-session.target that restarts on failure
    (enabled with ``systemctl --user enable``; the XDG entry is removed so the daemon is not
    started twice)."""

    config_home: Path
    command: list[str]
    systemd: bool = False
    name: str = "linux"
    systemctl: Callable[..., bool] = _systemctl

    @property
    def desktop_file(self) -> Path:
        return self.config_home / "autostart" / "vcamswap.desktop"

    @property
    def unit_file(self) -> Path:
        return self.config_home / "systemd" / "user" / "vcamswap.service"

    def enable(self) -> list[Path]:
        if self.systemd:
            self.desktop_file.unlink(missing_ok=True)
            written = [_write(self.unit_file, render.systemd_unit(self.command).encode())]
            self.systemctl("daemon-reload")
            if not self.systemctl("enable", "vcamswap.service"):
                log.warning(
                    "`systemctl --user enable vcamswap.service` did not succeed; run "
                    "it yourself (is a systemd user session running?)"
                )
            return written
        if self.unit_file.exists():
            self.systemctl("disable", "vcamswap.service")
            self.unit_file.unlink()
            self.systemctl("daemon-reload")
        return [_write(self.desktop_file, render.desktop_entry(self.command).encode())]

    def disable(self) -> list[Path]:
        removed = []
        if self.unit_file.exists():
            self.systemctl("disable", "vcamswap.service")
        for path in (self.desktop_file, self.unit_file):
            if path.exists():
                path.unlink()
                removed.append(path)
        if removed and self.unit_file in removed:
            self.systemctl("daemon-reload")
        return removed

    def enabled(self) -> bool:
        return self.desktop_file.exists() or self.unit_file.exists()

    def describe(self) -> str:
        """Which login item starts the daemon."""
        if self.unit_file.exists():
            return f"systemd user unit {self.unit_file}"
        if self.desktop_file.exists():
            return f"XDG autostart entry {self.desktop_file}"
        return "no login item"


@dataclass
class MacAutostart:
    home: Path
    command: list[str]
    log_dir: Path
    name: str = "macos"

    @property
    def plist(self) -> Path:
        return self.home / "Library" / "LaunchAgents" / f"{render.LABEL}.plist"

    def enable(self) -> list[Path]:
        # launchd opens StandardOutPath/StandardErrorPath itself and does not create folders.
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return [_write(self.plist, render.launchd_plist(self.command, str(self.log_dir)))]

    def disable(self) -> list[Path]:
        if self.plist.exists():
            self.plist.unlink()
            return [self.plist]
        return []

    def enabled(self) -> bool:
        return self.plist.exists()


RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


@dataclass
class WindowsAutostart:
    """A value under HKCU\\...\\Run; ``registry`` is winreg (a fake in tests)."""

    registry: Any
    command: list[str]
    name: str = "windows"

    def enable(self) -> list[Path]:
        with self.registry.CreateKey(self.registry.HKEY_CURRENT_USER, RUN_KEY) as key:
            self.registry.SetValueEx(
                key, "VCamSwap", 0, self.registry.REG_SZ, render.windows_command(self.command)
            )
        return [Path("HKCU") / RUN_KEY / "VCamSwap"]

    def disable(self) -> list[Path]:
        try:
            with self.registry.OpenKey(
                self.registry.HKEY_CURRENT_USER, RUN_KEY, 0, self.registry.KEY_SET_VALUE
            ) as key:
                self.registry.DeleteValue(key, "VCamSwap")
        except OSError:
            return []
        return [Path("HKCU") / RUN_KEY / "VCamSwap"]

    def enabled(self) -> bool:
        try:
            with self.registry.OpenKey(self.registry.HKEY_CURRENT_USER, RUN_KEY) as key:
                self.registry.QueryValueEx(key, "VCamSwap")
        except OSError:
            return False
        return True


KINDS = {"win32": "windows", "darwin": "macos"}


def for_this_system(
    log_dir: Path, systemd: bool = False, platform: Platform | None = None
) -> Autostart:
    platform = platform or current_platform()
    kind = os.environ.get("VCAMSWAP_AUTOSTART") or KINDS.get(platform.name, "linux")
    command = daemon_command(platform)
    home = Path(os.environ.get("HOME", str(Path.home())))
    if kind == "linux":
        config_home = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        return LinuxAutostart(config_home, command, systemd)
    if kind == "macos":
        return MacAutostart(home, command, log_dir)
    if kind == "windows":
        import winreg  # type: ignore[import-not-found,unused-ignore]

        return WindowsAutostart(winreg, command)
    raise VCamSwapError(f"VCAMSWAP_AUTOSTART={kind!r}: use linux, macos or windows")
