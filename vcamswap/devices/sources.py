"""Frame sources: a webcam through OpenCV, a looping video file, a generated test pattern."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vcamswap.errors import DeviceError
from vcamswap.i18n import _
from vcamswap.platforms import Platform, current_platform
from vcamswap.platforms.cameras import SYSFS_VIDEO, linux_cameras
from vcamswap.types import BgrImage

log = logging.getLogger(__name__)

_BACKENDS = {
    "v4l2": cv2.CAP_V4L2,
    "dshow": cv2.CAP_DSHOW,
    "msmf": cv2.CAP_MSMF,
    "avfoundation": cv2.CAP_AVFOUNDATION,
    "any": cv2.CAP_ANY,
}


def default_capture_backend(platform: Platform | None = None) -> int:
    """The OpenCV backend for ``camera.backend: auto`` on this OS (see
    ``Platform.capture_backend``: DirectShow on Windows)."""
    return int(_BACKENDS[(platform or current_platform()).capture_backend])


def list_video_devices(sysfs: Path = SYSFS_VIDEO) -> list[tuple[str, str]]:
    """(/dev/videoN, driver name) for every V4L2 device (Linux); empty elsewhere."""
    return [(str(camera.index), camera.name) for camera in linux_cameras(sysfs)]


def find_linux_camera(name: str, sysfs: Path = SYSFS_VIDEO) -> str | None:
    """The /dev/videoN whose driver name matches ``name`` (case-insensitive substring)."""
    for path, label in list_video_devices(sysfs):
        if name.lower() in label.lower():
            return path
    return None


class OpenCvCameraSource:
    """A webcam by index, device path or name. Asks for MJPG at 720p and above, sets size and
    fps where they differ from what the driver has, then reports what it really delivers.

    Built on the main thread at start, it asks for camera permission there (macOS shows its
    prompt only then); names resolve through the platform's camera list at each open."""

    def __init__(
        self,
        device: int | str,
        width: int,
        height: int,
        fps: float,
        *,
        fourcc: str = "auto",
        backend: str = "auto",
        capture_factory: Callable[[int | str, int], Any] = cv2.VideoCapture,
        platform: Platform | None = None,
    ) -> None:
        self._device = device
        self._width, self._height, self._fps = width, height, fps
        self._fourcc = fourcc
        self._platform = platform or current_platform()
        self._backend_name = self._platform.capture_backend if backend == "auto" else backend
        self._backend = int(_BACKENDS[self._backend_name])
        self._factory = capture_factory
        if threading.current_thread() is threading.main_thread():
            self._platform.prepare_camera()
        self._capture: Any = None

    @property
    def nominal_fps(self) -> float:
        return self._fps

    @property
    def paced_by_device(self) -> bool:
        return True

    @property
    def description(self) -> str:
        return f"camera {self._device!r}"

    def _resolve(self) -> int | str:
        """An index as is; a path or URL as is; a name through the OS's camera list."""
        device = self._device
        if isinstance(device, int):
            return device
        if device.isdigit():
            return int(device)
        if device.startswith("/dev/") or "://" in device:
            return device
        found = self._platform.find_camera(device)
        log.info("camera %r is %s on %s", device, found, self._platform.label)
        return found

    def _configure(self, capture: Any) -> None:
        """Only the properties that differ: each ``set`` may re-negotiate the stream (seconds
        per call with Media Foundation)."""
        fourcc = self._fourcc
        if fourcc == "auto":
            fourcc = "MJPG" if self._width * self._height >= 1280 * 720 else ""
        wanted: list[tuple[int, float]] = []
        if fourcc:
            wanted.append((cv2.CAP_PROP_FOURCC, float(cv2.VideoWriter.fourcc(*fourcc))))
        wanted += [
            (cv2.CAP_PROP_FRAME_WIDTH, float(self._width)),
            (cv2.CAP_PROP_FRAME_HEIGHT, float(self._height)),
            (cv2.CAP_PROP_FPS, float(self._fps)),
        ]
        if self._backend_name == "v4l2":
            wanted.append((cv2.CAP_PROP_BUFFERSIZE, 1.0))
        for prop, value in wanted:
            if abs(float(capture.get(prop)) - value) > 0.01:
                capture.set(prop, value)

    def open(self) -> None:
        if self._capture is not None:
            return
        device = self._resolve()
        capture = self._factory(device, self._backend)
        if capture is None or not capture.isOpened():
            if capture is not None:
                capture.release()
            permission = self._platform.permission
            state = permission.state()
            if state in ("denied", "not-asked"):
                raise DeviceError(
                    (
                        _("cannot open camera {camera}: camera access is turned off for this app")
                        if state == "denied"
                        else _(
                            "cannot open camera {camera}: camera access is not yet allowed for "
                            "this app"
                        )
                    ).format(camera=repr(self._device))
                    + f"; {permission.fix}"
                )
            raise DeviceError(
                _(
                    "cannot open camera {camera}: it is missing, unplugged or used by another "
                    "app; check the cable, close other video apps, or set camera.device"
                ).format(camera=repr(self._device))
            )
        self._configure(capture)
        log.info(
            "camera %r negotiated %dx%d at %.1f fps (driver's claim; measured rate in status)",
            self._device,
            int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            float(capture.get(cv2.CAP_PROP_FPS)),
        )
        self._capture = capture

    def read(self) -> BgrImage | None:
        if self._capture is None:
            return None
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        return np.ascontiguousarray(image)

    def close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()


class VideoFileSource:
    """A video file played in a loop at its own fps (demos, tests, benchmarks)."""

    def __init__(self, path: Path, *, loop: bool = True, fps: float | None = None) -> None:
        self._path = path
        self._loop = loop
        self._fps_override = fps
        self._fps = fps or 30.0
        self._capture: Any = None

    @property
    def nominal_fps(self) -> float:
        return self._fps

    @property
    def paced_by_device(self) -> bool:
        return False

    @property
    def description(self) -> str:
        return f"video file {self._path}"

    def open(self) -> None:
        if self._capture is not None:
            return
        if not self._path.is_file():
            raise DeviceError(
                _("video file {file} does not exist; check the path").format(file=self._path)
            )
        capture = cv2.VideoCapture(str(self._path))
        if not capture.isOpened():
            capture.release()
            raise DeviceError(
                _(
                    "cannot decode {file}: not a video format OpenCV/FFmpeg reads (try mp4 with "
                    "H.264)"
                ).format(file=self._path)
            )
        fps = capture.get(cv2.CAP_PROP_FPS)
        if self._fps_override is None and fps and 1 <= fps <= 240:
            self._fps = float(fps)
        self._capture = capture

    def read(self) -> BgrImage | None:
        if self._capture is None:
            return None
        ok, image = self._capture.read()
        if not ok and self._loop:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._capture.read()
        return np.ascontiguousarray(image) if ok else None

    def close(self) -> None:
        capture, self._capture = self._capture, None
        if capture is not None:
            capture.release()


class TestPatternSource:
    """Colour bars with a moving bar and a frame counter: proves the path works without a camera."""

    __test__ = False  # not a pytest class

    def __init__(self, width: int = 1280, height: int = 720, fps: float = 30.0) -> None:
        self._width, self._height, self._fps = width, height, fps
        self._base: BgrImage | None = None
        self._count = 0

    @property
    def nominal_fps(self) -> float:
        return self._fps

    @property
    def paced_by_device(self) -> bool:
        return False

    @property
    def description(self) -> str:
        return f"test pattern {self._width}x{self._height}"

    def open(self) -> None:
        colors = [
            (255, 255, 255),
            (0, 255, 255),
            (255, 255, 0),
            (0, 255, 0),
            (255, 0, 255),
            (0, 0, 255),
            (255, 0, 0),
            (0, 0, 0),
        ]
        base: BgrImage = np.zeros((self._height, self._width, 3), dtype=np.uint8)
        step = self._width // len(colors) + 1
        for i, color in enumerate(colors):
            base[:, i * step : (i + 1) * step] = color
        self._base = base

    def read(self) -> BgrImage | None:
        if self._base is None:
            return None
        image: BgrImage = self._base.copy()
        x = (self._count * 8) % self._width
        image[:, x : x + 8] = 128
        cv2.putText(
            image,
            f"VCamSwap {self._count}",
            (20, 50),
            cv2.FONT_HERSHEY_SIMPLEX,
            1.2,
            (40, 40, 40),
            2,
            cv2.LINE_AA,
        )
        self._count += 1
        return image

    def close(self) -> None:
        self._base = None


class MemoryFramesSource:
    """Cycles through frames held in memory: benchmarks measure processing, not decoding."""

    def __init__(
        self, frames: list[BgrImage], fps: float = 30.0, description: str = "frames in memory"
    ) -> None:
        if not frames:
            raise DeviceError("no frames to play")
        self._frames = frames
        self._fps = fps
        self._description = description
        self._index = 0

    @property
    def nominal_fps(self) -> float:
        return self._fps

    @property
    def paced_by_device(self) -> bool:
        return False

    @property
    def description(self) -> str:
        return self._description

    def open(self) -> None:
        self._index = 0

    def read(self) -> BgrImage | None:
        image = self._frames[self._index % len(self._frames)]
        self._index += 1
        return image

    def close(self) -> None:
        return None
