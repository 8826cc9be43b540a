"""The platform seam: everything that differs between Linux, Windows and macOS, as one value.

``current_platform()`` describes the machine it runs on; ``for_os("win32", ...)`` builds the
same value for another OS, with any part replaced (the camera list, the tray library, the
signal module, the main-thread dispatcher). Library code takes a ``Platform`` argument and
never reads ``sys.platform`` itself, so tests run the Windows and macOS paths on Linux by
passing one in.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Literal

from vcamswap.platforms.cameras import (
    CameraInfo,
    CameraLister,
    CameraListError,
    CameraPermission,
    MacCameraPermission,
    NoCameraPermission,
    WindowsCameraPermission,
    linux_cameras,
    macos_cameras,
    no_cameras,
    resolve_camera,
    windows_cameras,
)
from vcamswap.platforms.system import (
    expected_names,
    gpu_library_fix,
    listen_options,
    login_command,
    lower_thread_priority,
    virtual_camera_fix,
    virtual_camera_plan,
)
from vcamswap.platforms.tray import (
    Action,
    DirectLoop,
    MainThreadLoop,
    SignalLoop,
    TrayLoop,
    appkit_call_after,
)

__all__ = [
    "CameraInfo",
    "CameraListError",
    "OsName",
    "Platform",
    "current_platform",
    "for_os",
    "os_name",
    "resolve_camera",
]

log = logging.getLogger(__name__)
OsName = Literal["linux", "win32", "darwin", "other"]
LABELS = {"linux": "Linux", "win32": "Windows", "darwin": "macOS", "other": "this OS"}
CAPTURE_BACKENDS = {"linux": "v4l2", "win32": "dshow", "darwin": "avfoundation", "other": "any"}


def os_name(sys_platform: str) -> OsName:
    """``sys.platform`` folded to the OSes VCamSwap tells apart."""
    if sys_platform.startswith("linux"):
        return "linux"
    if sys_platform in ("win32", "cygwin"):
        return "win32"
    return "darwin" if sys_platform == "darwin" else "other"


def _import_pystray() -> Any:
    return importlib.import_module("pystray")


@dataclass(frozen=True)
class Platform:
    """One OS's behaviour. The fields are the parts with side effects, replaceable in tests."""

    name: OsName
    cameras: CameraLister = no_cameras
    permission: CameraPermission = field(default_factory=NoCameraPermission)
    load_tray: Callable[[], Any] = _import_pystray
    signals: Any = signal
    dispatch: Callable[[Action], None] = appkit_call_after
    """macOS: queues a call on the main thread's run loop."""
    kill: Callable[[int, int], None] = os.kill
    executable: PurePath = field(default_factory=lambda: Path(sys.executable))
    environ: MutableMapping[str, str] = field(default_factory=lambda: os.environ)

    @property
    def label(self) -> str:
        return LABELS[self.name]

    @property
    def capture_backend(self) -> str:
        """OpenCV's camera backend for ``camera.backend: auto``. Windows: DirectShow, whose
        device order is the one names resolve against and whose open is fast (Media
        Foundation re-negotiates the stream on each ``set``, seconds per open)."""
        return CAPTURE_BACKENDS[self.name]

    def tray_loop(self) -> TrayLoop:
        if self.name == "darwin":
            return MainThreadLoop(self.dispatch)
        if self.name == "linux" and hasattr(self.signals, "SIGUSR1"):
            return SignalLoop(self.signals, self.kill)
        return DirectLoop()

    def find_camera(self, name: str) -> int | str:
        """The index (Linux: the /dev/videoN) of the camera called ``name``; DeviceError with
        the cameras found when none matches."""
        return resolve_camera(name, self.cameras())

    def prepare_camera(self) -> None:
        """On the main thread at start: ask for camera permission where the OS asks (macOS
        shows its prompt only for a request made by the app, and OpenCV's capture thread
        cannot make it, so OpenCV is told not to try)."""
        if self.name == "darwin":
            self.environ.setdefault("OPENCV_AVFOUNDATION_SKIP_AUTH", "1")
        if self.name == "win32":  # Media Foundation, if chosen, opens in ms instead of seconds
            self.environ.setdefault("OPENCV_VIDEOIO_MSMF_ENABLE_HW_TRANSFORMS", "0")
        try:
            self.permission.request()
        except Exception as exc:
            log.warning("could not ask for camera permission (%s): %s", exc, self.permission.fix)
        state = self.permission.state()
        if state == "denied":
            log.warning("camera access is turned off for this app: %s", self.permission.fix)
        elif state == "unknown" and self.permission.fix:
            log.info(
                "camera permission could not be checked here; if the camera stays black: %s",
                self.permission.fix,
            )

    def lower_thread_priority(self) -> str:
        return lower_thread_priority(self.name)

    def listen_options(self) -> list[tuple[int, int, int]]:
        return listen_options(self.name)

    def login_command(self, which: Callable[[str], str | None] | None = None) -> list[str]:
        return login_command(self.name, self.executable, which=which)

    def virtual_camera_plan(
        self, device_name: str, backend: str | None, linux_device: Callable[[str], str | None]
    ) -> list[tuple[str | None, str | None]]:
        return virtual_camera_plan(self.name, device_name, backend, linux_device)

    def expected_camera_names(self, device_name: str) -> list[str]:
        return expected_names(self.name, device_name)

    def virtual_camera_fix(self, device_name: str = "VCamSwap") -> str:
        return virtual_camera_fix(self.name, device_name)

    def gpu_library_fix(self) -> str:
        return gpu_library_fix(self.name)


def for_os(name: OsName, **parts: Any) -> Platform:
    """The platform value for ``name`` with its real parts, any of them replaced by ``parts``."""
    every: dict[str, dict[str, Any]] = {
        "linux": {"cameras": linux_cameras},
        "win32": {"cameras": windows_cameras, "permission": WindowsCameraPermission()},
        "darwin": {"cameras": macos_cameras, "permission": MacCameraPermission()},
        "other": {},
    }
    defaults = every[name]
    return Platform(name, **{**defaults, **parts})


def current_platform() -> Platform:
    """The machine this runs on."""
    return for_os(os_name(sys.platform))
