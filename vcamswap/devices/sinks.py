"""Frame sinks: the OS virtual camera (pyvirtualcam), an mp4 recording (PyAV), and discard."""

from __future__ import annotations

import logging
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from vcamswap.devices.imaging import fit_image
from vcamswap.devices.sources import find_linux_camera, list_video_devices
from vcamswap.errors import DeviceError
from vcamswap.platforms import Platform, current_platform
from vcamswap.platforms.cameras import OBS_CAMERA
from vcamswap.platforms.system import shown_name
from vcamswap.types import BgrImage

log = logging.getLogger(__name__)


def virtual_camera_fix(platform: Platform | None = None) -> str:
    """The per-OS way to get a virtual camera driver, for error messages and `doctor`."""
    return (platform or current_platform()).virtual_camera_fix()


def _linux_label(device: str) -> str | None:
    return next((name for path, name in list_video_devices() if path == device), None)


class VirtualCameraSink:
    """Writes BGR frames to the OS virtual camera, trying the platform's backends in order
    (Windows: Unity Capture named ``device_name``, then OBS). With a fixed size, frames are
    fitted keeping their aspect ratio; without one the device follows the frame size and is
    reopened when it changes. ``camera_name`` is the name the user picks in a video app."""

    def __init__(
        self,
        *,
        width: int | None,
        height: int | None,
        fps: float,
        device_name: str = "VCamSwap",
        backend: str | None = None,
        initial_size: tuple[int, int] | None = None,
        camera_factory: Callable[..., Any] | None = None,
        platform: Platform | None = None,
    ) -> None:
        self._fixed = (width, height) if width and height else None
        self._fps = fps
        self._name = device_name
        self._backend = backend
        self._factory = camera_factory
        self._platform = platform or current_platform()
        self._camera: Any = None
        self._used: str | None = None
        # Opened at once (fixed or expected size) so a missing driver is reported at start.
        self._size: tuple[int, int] | None = self._fixed or initial_size

    @property
    def camera_name(self) -> str:
        """What video apps call this camera: the open device's name, or before the first open
        the one this OS's first choice would give."""
        if self._camera is not None:
            return shown_name(self._used, str(self._camera.device), _linux_label)
        if self._backend is None:
            return self._platform.expected_camera_names(self._name)[0]
        return OBS_CAMERA if self._backend == "obs" else self._name

    @property
    def description(self) -> str:
        device = str(self._camera.device) if self._camera is not None else ""
        where = f" ({device})" if device.startswith("/dev/") else ""
        return f"virtual camera {self.camera_name!r}{where}"

    @property
    def device_path(self) -> str | None:
        """The /dev/videoN in use (Linux), for the on-demand reader check."""
        if self._camera is not None and str(self._camera.device).startswith("/dev/"):
            return str(self._camera.device)
        return find_linux_camera(self._name) if self._platform.name == "linux" else None

    def open(self) -> None:
        if self._size is not None:
            self._open_at(*self._size)

    def _open_at(self, width: int, height: int) -> None:
        import pyvirtualcam

        factory = self._factory or pyvirtualcam.Camera
        failures: list[str] = []
        plan = self._platform.virtual_camera_plan(self._name, self._backend, find_linux_camera)
        for backend, device in plan:
            try:
                camera = factory(
                    width=width,
                    height=height,
                    fps=self._fps,
                    fmt=pyvirtualcam.PixelFormat.BGR,
                    device=device,
                    backend=backend,
                )
            except Exception as exc:
                # pyvirtualcam names the backend in its message ("'obs' backend: ...")
                failures.append((str(exc).strip() or type(exc).__name__).replace(chr(10), "; "))
                continue
            self._camera, self._used, self._size = camera, backend, (width, height)
            if failures:
                log.info("virtual camera: %s unavailable (%s)", plan[0][0], failures[0])
            log.info(
                "virtual camera %r open at %dx%d, %.0f fps: in Zoom, Meet, Discord or "
                "OBS pick the camera named %r",
                str(camera.device),
                width,
                height,
                self._fps,
                self.camera_name,
            )
            return
        raise DeviceError(
            f"no virtual camera available ({'; '.join(failures)}). Fix: "
            f"{self._platform.virtual_camera_fix(self._name)}. Meanwhile "
            "`--output file:out.mp4` records to a file."
        )

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


def shown_camera_name(sink: object) -> str | None:
    """The camera name to pick in a video app when ``sink`` is the virtual camera, else None
    (for status, the tray and logs)."""
    return sink.camera_name if isinstance(sink, VirtualCameraSink) else None


class RecordingSink:
    """Records frames to an mp4 (H.264) with PyAV at a constant ``fps``. The file is opened at the
    first frame, whose size (made even for yuv420p) fixes the video size."""

    def __init__(
        self, path: Path, *, fps: float = 30.0, crf: int = 20, tags: dict[str, str] | None = None
    ) -> None:
        """``tags``: container metadata (the synthetic-media labels for recordings of swapped
        output; none for sample clips of real footage)."""
        self._tags = tags or {}
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
            raise DeviceError(
                f"cannot record to {self._path}: folder {self._path.parent} does not exist"
            )

    def _start(self, width: int, height: int) -> None:
        import av

        mp4 = self._path.suffix.lower() in (".mp4", ".mov", ".m4v")
        options = {"movflags": "+use_metadata_tags"} if mp4 and self._tags else {}
        try:
            container = av.open(str(self._path), mode="w", options=options)
        except OSError as exc:
            raise DeviceError(f"cannot write {self._path}: {exc}") from exc
        container.metadata.update(self._tags)
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
