"""Frame sinks: the OS virtual camera (pyvirtualcam), an mp4 recording (PyAV), and discard."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from vcamswap.devices.imaging import fit_image
from vcamswap.devices.sources import find_linux_camera
from vcamswap.errors import DeviceError
from vcamswap.types import BgrImage

log = logging.getLogger(__name__)


def virtual_camera_fix(platform: str = sys.platform) -> str:
    """The per-OS way to get a virtual camera driver, for error messages and `doctor`."""
    if platform.startswith("linux"):
        return ("install and load v4l2loopback: `sudo apt install v4l2loopback-dkms` then "
                "`sudo modprobe v4l2loopback devices=1 video_nr=10 card_label=VCamSwap "
                "exclusive_caps=1` (install/linux/v4l2loopback.sh makes it permanent)")
    if platform == "win32":
        return ("install OBS Studio and start its Virtual Camera once, or install Unity Capture "
                "with the device name 'VCamSwap'")
    if platform == "darwin":
        return "install OBS Studio and start its Virtual Camera once (System Settings may ask)"
    return "install a virtual camera driver supported by pyvirtualcam"


class VirtualCameraSink:
    """Writes BGR frames to the OS virtual camera named ``device_name`` where the backend
    allows it. With a fixed size, frames are fitted keeping their aspect ratio; without one the
    device follows the frame size and is reopened when it changes."""

    def __init__(self, *, width: int | None, height: int | None, fps: float,
                 device_name: str = "VCamSwap", backend: str | None = None,
                 initial_size: tuple[int, int] | None = None,
                 camera_factory: Callable[..., Any] | None = None) -> None:
        self._fixed = (width, height) if width and height else None
        self._fps = fps
        self._name = device_name
        self._backend = backend
        self._factory = camera_factory
        self._camera: Any = None
        # Opened at once (fixed or expected size) so a missing driver is reported at start.
        self._size: tuple[int, int] | None = self._fixed or initial_size

    @property
    def description(self) -> str:
        device = self._camera.device if self._camera is not None else self._name
        return f"virtual camera {device!r}"

    @property
    def device_path(self) -> str | None:
        """The /dev/videoN in use (Linux), for the on-demand reader check."""
        if self._camera is not None and str(self._camera.device).startswith("/dev/"):
            return str(self._camera.device)
        return find_linux_camera(self._name) if sys.platform.startswith("linux") else None

    def _device_for(self, backend: str | None) -> str | None:
        if sys.platform.startswith("linux") and backend in (None, "v4l2loopback"):
            path = find_linux_camera(self._name)
            if path is None:
                log.info("no v4l2loopback device labelled %r; using the first loopback device "
                         "(load the module with card_label=%s to name it)", self._name,
                         self._name)
            return path
        if backend == "unitycapture":
            return self._name
        return None

    def open(self) -> None:
        if self._size is not None:
            self._open_at(*self._size)

    def _open_at(self, width: int, height: int) -> None:
        import pyvirtualcam

        factory = self._factory or pyvirtualcam.Camera
        try:
            camera = factory(width=width, height=height, fps=self._fps,
                             fmt=pyvirtualcam.PixelFormat.BGR,
                             device=self._device_for(self._backend), backend=self._backend)
        except Exception as exc:
            reasons = str(exc).strip() or type(exc).__name__
            raise DeviceError(
                f"no virtual camera available ({reasons.replace(chr(10), '; ')}). Fix: "
                f"{virtual_camera_fix()}. Meanwhile `--output file:out.mp4` records to a file."
            ) from exc
        self._camera = camera
        self._size = (width, height)
        log.info("virtual camera %r open at %dx%d, %.0f fps", camera.device, width, height,
                 self._fps)

    def send(self, image: BgrImage) -> None:
        h, w = image.shape[:2]
        if self._fixed is None and self._size != (w, h):
            self.close()
            self._open_at(w, h)
        elif self._camera is None:
            self._open_at(*(self._size or (w, h)))
        assert self._size is not None
        self._camera.send(fit_image(image, *self._size))

    def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            camera.close()


class RecordingSink:
    """Records frames to an mp4 (H.264) with PyAV at a constant ``fps``. The file is opened at the
    first frame, whose size (made even for yuv420p) fixes the video size."""

    def __init__(self, path: Path, *, fps: float = 30.0, crf: int = 20) -> None:
        self._path = path
        self._fps = Fraction(fps).limit_denominator(1001)
        self._crf = crf
        self._container: Any = None
        self._stream: Any = None
        self._size: tuple[int, int] | None = None
        self.frames = 0

    @property
    def description(self) -> str:
        return f"recording {self._path}"

    def open(self) -> None:
        if self._path.parent and not self._path.parent.exists():
            raise DeviceError(f"cannot record to {self._path}: folder {self._path.parent} "
                              "does not exist")

    def _start(self, width: int, height: int) -> None:
        import av

        try:
            container = av.open(str(self._path), mode="w")
        except OSError as exc:
            raise DeviceError(f"cannot write {self._path}: {exc}") from exc
        stream = container.add_stream("libx264", rate=self._fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self._crf), "preset": "veryfast"}
        self._container, self._stream, self._size = container, stream, (width, height)

    def send(self, image: BgrImage) -> None:
        import av

        if self._size is None:
            self._start(image.shape[1] // 2 * 2, image.shape[0] // 2 * 2)
        assert self._size is not None
        frame = av.VideoFrame.from_ndarray(fit_image(image, *self._size), format="bgr24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            for packet in self._stream.encode():
                container.mux(packet)
            container.close()
        self._size = None


class NullSink:
    """Discards frames (benchmarks)."""

    def __init__(self) -> None:
        self.frames = 0

    @property
    def description(self) -> str:
        return "null output"

    def open(self) -> None:
        return None

    def send(self, image: BgrImage) -> None:
        self.frames += 1

    def close(self) -> None:
        return None
