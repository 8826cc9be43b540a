"""Small per-OS facts and calls: listening-socket options, a thread's priority, the login
item's command, which virtual camera to try and what apps call it. Each takes the OS name and
its system calls as arguments, so every branch runs in tests on any machine."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any

from vcamswap.platforms.cameras import OBS_CAMERA

log = logging.getLogger(__name__)

# Winsock's values (winsock2.h): SO_EXCLUSIVEADDRUSE is ((int)(~SO_REUSEADDR)), SO_REUSEADDR 4.
WINSOCK_SOL_SOCKET = 0xFFFF
WINSOCK_SO_EXCLUSIVEADDRUSE = ~4


def listen_options(os_name: str) -> list[tuple[int, int, int]]:
    """``setsockopt`` calls for the control server's listening socket, before ``bind``.

    Windows: SO_EXCLUSIVEADDRUSE. There SO_REUSEADDR would let a second daemon (or any
    program) bind the same port while the first listens; without it a restarted daemon may
    briefly find the port busy, which the caller reports. Elsewhere SO_REUSEADDR only allows a
    restart while old connections sit in TIME_WAIT, and a second listener still fails."""
    if os_name == "win32":
        return [(WINSOCK_SOL_SOCKET, WINSOCK_SO_EXCLUSIVEADDRUSE, 1)]
    return [(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)]


# setpriority(2) on macOS: PRIO_DARWIN_THREAD with who=0 is the calling thread, and
# PRIO_DARWIN_BG puts it in the background band (lower CPU and I/O priority).
PRIO_DARWIN_THREAD, PRIO_DARWIN_BG = 3, 0x1000
THREAD_PRIORITY_LOWEST = -2


def _kernel32() -> Any:
    import ctypes

    return ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]


def lower_thread_priority(
    os_name: str,
    *,
    setpriority: Callable[[int, int, int], None] | None = None,
    native_id: Callable[[], int] = threading.get_native_id,
    kernel32: Callable[[], Any] = _kernel32,
) -> str:
    """Lower the calling thread's priority; returns what was done (for the debug log).

    Linux: threads are tasks, so ``setpriority(PRIO_PROCESS, native thread id, 10)`` nices
    this thread only. macOS: the thread joins the background band (a thread id is not a pid
    there). Windows: ``SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_LOWEST)``."""
    set_priority = setpriority or getattr(os, "setpriority", None)
    try:
        if os_name == "win32":
            k32 = kernel32()
            if not k32.SetThreadPriority(k32.GetCurrentThread(), THREAD_PRIORITY_LOWEST):
                return "SetThreadPriority failed"
            return "thread priority lowest"
        if set_priority is None:
            return "no setpriority here"
        if os_name == "darwin":
            set_priority(PRIO_DARWIN_THREAD, 0, PRIO_DARWIN_BG)
            return "background thread"
        if os_name == "linux":
            set_priority(getattr(os, "PRIO_PROCESS", 0), native_id(), 10)
            return "nice 10"
    except (OSError, AttributeError) as exc:
        return f"unchanged ({exc})"
    return "unchanged on this OS"


def _is_file(path: PurePath) -> bool:
    return Path(path).is_file()


def login_command(
    os_name: str,
    executable: PurePath,
    *,
    exists: Callable[[PurePath], bool] = _is_file,
    which: Callable[[str], str | None] | None = None,
) -> list[str]:
    """The login item's command line, as a list.

    Windows: the ``vcamswapw.exe`` GUI launcher (``[project.gui-scripts]``), else
    ``pythonw.exe -m vcamswap``: neither opens a console window, so nothing can be closed by
    mistake and kill the daemon. ``python.exe`` is used only when no pythonw exists beside it.
    Elsewhere: the ``vcamswap`` entry point beside the interpreter (the venv's), then on PATH,
    then ``python -m vcamswap``."""
    args = ["run", "--at-login"]
    folder = executable.parent
    if os_name == "win32":
        for launcher in (folder / "vcamswapw.exe", folder / "Scripts" / "vcamswapw.exe"):
            if exists(launcher):
                return [str(launcher), *args]
        pythonw = folder / "pythonw.exe"
        if exists(pythonw):
            return [str(pythonw), "-m", "vcamswap", *args]
        log.warning("no pythonw.exe beside %s: the login item opens a console window", executable)
        return [str(executable), "-m", "vcamswap", *args]
    beside = folder / "vcamswap"
    if exists(beside):
        return [str(beside), *args]
    found = which("vcamswap") if which else None
    if found:
        return [str(Path(found).resolve()), *args]
    return [str(executable), "-m", "vcamswap", *args]


VirtualPlan = list[tuple[str | None, str | None]]


def virtual_camera_plan(
    os_name: str, device_name: str, backend: str | None, linux_device: Callable[[str], str | None]
) -> VirtualPlan:
    """(pyvirtualcam backend, device) pairs to try in order.

    Linux: v4l2loopback, on the device labelled ``device_name`` when there is one. Windows:
    Unity Capture's device named ``device_name`` first (only it can carry the name 'VCamSwap';
    installed by the documented regsvr32 step), then OBS's. macOS: OBS's. A configured backend
    is tried alone."""

    def device_for(name: str | None) -> str | None:
        if name == "v4l2loopback" or (name is None and os_name == "linux"):
            return linux_device(device_name)
        return device_name if name == "unitycapture" else None

    if backend:
        return [(backend, device_for(backend))]
    if os_name == "linux":
        return [("v4l2loopback", device_for("v4l2loopback"))]
    if os_name == "win32":
        return [("unitycapture", device_name), ("obs", None)]
    if os_name == "darwin":
        return [("obs", None)]
    return [(None, None)]


def shown_name(backend: str | None, device: str, linux_label: Callable[[str], str | None]) -> str:
    """The name video apps list for an open virtual camera: OBS's fixed name, Unity Capture's
    device name, or a v4l2loopback device's card label."""
    if backend == "obs":
        return OBS_CAMERA
    if device.startswith("/dev/"):
        return linux_label(device) or device
    return device


def expected_names(os_name: str, device_name: str) -> list[str]:
    """What the user may pick in a video app on this OS, best first (for doctor and logs)."""
    if os_name == "win32":
        return [device_name, OBS_CAMERA]
    if os_name == "darwin":
        return [OBS_CAMERA]
    return [device_name]


def virtual_camera_fix(os_name: str, device_name: str = "VCamSwap") -> str:
    """How to get a virtual camera driver on this OS (errors and doctor)."""
    if os_name == "linux":
        return (
            "install and load v4l2loopback: `sudo apt install v4l2loopback-dkms` then "
            "`sudo modprobe v4l2loopback devices=1 video_nr=10 card_label=VCamSwap "
            "exclusive_caps=1` (install/linux/v4l2loopback.sh makes it permanent)"
        )
    if os_name == "win32":
        return (
            f"install Unity Capture under the name {device_name!r} (install/README.md, "
            "Windows: regsvr32 UnityCaptureFilter64bit.dll "
            f'"/i:UnityCaptureName={device_name}" as administrator), or install OBS '
            "Studio and start its Virtual Camera once"
        )
    if os_name == "darwin":
        return (
            "install OBS Studio, start its Virtual Camera once and allow its system "
            "extension in System Settings > Privacy & Security (install/README.md, macOS)"
        )
    return "install a virtual camera driver supported by pyvirtualcam"


def gpu_library_fix(os_name: str) -> str:
    """Where the CUDA and cuDNN libraries must be found when onnxruntime-gpu cannot start."""
    wheels = "pip install 'onnxruntime-gpu[cuda,cudnn]' (the libraries as wheels)"
    if os_name == "linux":
        return f"{wheels}, or add the CUDA and cuDNN library folders to LD_LIBRARY_PATH"
    if os_name == "win32":
        return (
            f"{wheels}, or install the CUDA and cuDNN versions onnxruntime-gpu was built "
            "for and put their bin folders on PATH"
        )
    if os_name == "darwin":
        return (
            "onnxruntime-gpu does not exist for macOS: pip uninstall onnxruntime-gpu and "
            "pip install onnxruntime (CPU, or models.providers: [coreml])"
        )
    return wheels
