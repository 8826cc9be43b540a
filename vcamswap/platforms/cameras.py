"""Cameras by name and camera permission, per OS.

OpenCV opens a camera by index; the index is a position in the OS's own list, so a name is
resolved through the same list OpenCV uses: the V4L2 devices in sysfs (Linux, by path), the
DirectShow video input devices (Windows: pygrabber enumerates them in DirectShow's order, the
order of ``cv2.CAP_DSHOW`` indices), and AVFoundation's video and muxed devices sorted by
``uniqueID`` (macOS: what OpenCV's AVFoundation backend sorts by before it indexes). Each lister
is a plain callable, so tests hand in a fake list and no webcam is needed.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from vcamswap.errors import DeviceError

log = logging.getLogger(__name__)
SYSFS_VIDEO = Path("/sys/class/video4linux")
OBS_CAMERA = "OBS Virtual Camera"
"""The name OBS's virtual camera has in every app (Windows and macOS)."""


@dataclass(frozen=True, slots=True)
class CameraInfo:
    """One camera as the OS lists it: what OpenCV opens (``index``) and what apps show."""

    index: int | str
    name: str


class CameraListError(DeviceError):
    """This OS's camera list cannot be read here (a missing package, no backend)."""


CameraLister = Callable[[], list[CameraInfo]]


def linux_cameras(sysfs: Path = SYSFS_VIDEO) -> list[CameraInfo]:
    """Every V4L2 node (``/dev/videoN``) with its driver's name; empty without sysfs."""
    if not sysfs.is_dir():
        return []
    found = []
    for entry in sorted(sysfs.iterdir()):
        try:
            found.append(
                CameraInfo(
                    f"/dev/{entry.name}", (entry / "name").read_text(encoding="utf-8").strip()
                )
            )
        except OSError:
            continue
    return found


def _import(name: str) -> Any:
    return importlib.import_module(name)


def windows_cameras(load: Callable[[str], Any] = _import) -> list[CameraInfo]:
    """DirectShow's video input devices, in the order ``cv2.CAP_DSHOW`` numbers them."""
    try:
        dshow = load("pygrabber.dshow_graph")
    except ImportError as exc:
        raise CameraListError(
            "cameras cannot be listed by name: pygrabber is not installed "
            "(pip install pygrabber); use the camera's number"
        ) from exc
    with contextlib.suppress(Exception):  # COM must be initialised on the calling thread
        load("comtypes").CoInitialize()
    names = dshow.FilterGraph().get_input_devices()
    return [CameraInfo(index, str(name)) for index, name in enumerate(names)]


def macos_cameras(load: Callable[[str], Any] = _import) -> list[CameraInfo]:
    """AVFoundation's video and muxed devices sorted by uniqueID, as OpenCV indexes them."""
    try:
        av = load("AVFoundation")
    except ImportError as exc:
        raise CameraListError(
            "cameras cannot be listed by name: PyObjC's AVFoundation is not "
            "installed (pip install pyobjc-framework-AVFoundation); use the "
            "camera's number"
        ) from exc
    device = av.AVCaptureDevice
    devices = [
        *device.devicesWithMediaType_(av.AVMediaTypeVideo),
        *device.devicesWithMediaType_(av.AVMediaTypeMuxed),
    ]
    devices.sort(key=lambda d: str(d.uniqueID()))
    return [CameraInfo(index, str(d.localizedName())) for index, d in enumerate(devices)]


def no_cameras() -> list[CameraInfo]:
    raise CameraListError("cameras cannot be listed by name on this OS; use the camera's number")


def describe(cameras: list[CameraInfo]) -> str:
    """``0 'Integrated Webcam', 1 'OBS Virtual Camera'`` (what error messages and doctor show)."""
    return ", ".join(f"{c.index} {c.name!r}" for c in cameras) or "none"


def resolve_camera(name: str, cameras: list[CameraInfo]) -> int | str:
    """The index of the camera called ``name``: an exact (case-insensitive) name first, then
    the first name containing it. No match is a DeviceError that lists what was found."""
    wanted = name.casefold()
    exact = [c for c in cameras if c.name.casefold() == wanted]
    partial = [c for c in cameras if wanted in c.name.casefold()]
    found = exact or partial
    if found:
        return found[0].index
    listed = (
        f"the cameras found are {describe(cameras)}"
        if cameras
        else "no camera was found (plugged in, and allowed to be used?)"
    )
    raise DeviceError(
        f"no camera named {name!r}: {listed}. Set camera.device (or --camera) "
        "to one of these names or numbers; `vcamswap doctor` lists them"
    )


PermissionState = Literal["granted", "denied", "not-asked", "unknown"]


class CameraPermission(Protocol):
    """Whether this process may use a camera, and how the user grants it."""

    @property
    def fix(self) -> str: ...

    def state(self) -> PermissionState: ...

    def request(self) -> None: ...


@dataclass(frozen=True, slots=True)
class NoCameraPermission:
    """Linux: no per-app camera permission (device file modes decide)."""

    fix: str = ""

    def state(self) -> PermissionState:
        return "granted"

    def request(self) -> None:
        return None


MAC_FIX = (
    "allow the camera in System Settings > Privacy & Security > Camera for the app that "
    "starts VCamSwap (Terminal, iTerm or your IDE; Python for the login item), then "
    "restart it"
)
WIN_FIX = (
    "turn on Settings > Privacy & security > Camera > 'Camera access' and 'Let desktop "
    "apps access your camera'"
)


@dataclass(frozen=True, slots=True)
class MacCameraPermission:
    """AVFoundation's authorization status; ``request`` asks once (shows the system prompt).
    Call it on the main thread at start: OpenCV cannot ask from its capture thread."""

    load: Callable[[str], Any] = _import
    fix: str = MAC_FIX

    def state(self) -> PermissionState:
        try:
            av = self.load("AVFoundation")
            status = int(av.AVCaptureDevice.authorizationStatusForMediaType_(av.AVMediaTypeVideo))
        except Exception as exc:
            log.debug("camera permission unknown: %s", exc)
            return "unknown"
        # AVAuthorizationStatus: 0 not determined, 1 restricted, 2 denied, 3 authorized
        states: dict[int, PermissionState] = {
            0: "not-asked",
            1: "denied",
            2: "denied",
            3: "granted",
        }
        return states.get(status, "unknown")

    def request(self) -> None:
        if self.state() != "not-asked":
            return
        av = self.load("AVFoundation")

        def answered(granted: bool) -> None:
            log.log(
                logging.INFO if granted else logging.WARNING,
                "camera permission %s%s",
                "granted" if granted else "refused",
                "" if granted else f": {self.fix}",
            )

        av.AVCaptureDevice.requestAccessForMediaType_completionHandler_(
            av.AVMediaTypeVideo, answered
        )
        log.info("macOS asks for camera permission: answer the system prompt")


CONSENT_KEY = r"Software\Microsoft\Windows\CurrentVersion\CapabilityAccessManager\ConsentStore"


@dataclass(frozen=True, slots=True)
class WindowsCameraPermission:
    """Windows' camera privacy switches (the device-wide one, the user's, and 'let desktop
    apps access your camera'), read from the registry; Windows shows no prompt to desktop
    apps, so ``request`` does nothing."""

    load: Callable[[str], Any] = _import
    fix: str = WIN_FIX

    def _value(self, registry: Any, root: Any, path: str) -> str | None:
        try:
            with registry.OpenKey(root, path) as key:
                return str(registry.QueryValueEx(key, "Value")[0])
        except OSError:
            return None

    def state(self) -> PermissionState:
        try:
            registry = self.load("winreg")
        except ImportError:
            return "unknown"
        values = [
            self._value(registry, registry.HKEY_LOCAL_MACHINE, rf"{CONSENT_KEY}\webcam"),
            self._value(registry, registry.HKEY_CURRENT_USER, rf"{CONSENT_KEY}\webcam"),
            self._value(registry, registry.HKEY_CURRENT_USER, rf"{CONSENT_KEY}\webcam\NonPackaged"),
        ]
        if "Deny" in values:
            return "denied"
        return "granted" if "Allow" in values[1:] else "unknown"

    def request(self) -> None:
        return None
