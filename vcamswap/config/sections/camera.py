"""camera and output: the webcam the daemon reads and the virtual camera it writes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from vcamswap.config.sections.base import Section


class CameraConfig(Section):
    """The physical webcam VCamSwap reads from."""

    device: int | str = Field(
        0,
        description="Camera to open: an index (0 = first camera), a device name or path "
        "(e.g. '/dev/video0', 'HD Pro Webcam C920'; a name matches the OS's camera list, which "
        "`vcamswap doctor` shows), 'file:PATH' to play a video file in a loop, or 'pattern' "
        "for a generated test pattern.",
    )
    width: int = Field(1280, ge=160, le=7680, description="Requested capture width in pixels.")
    height: int = Field(720, ge=120, le=4320, description="Requested capture height in pixels.")
    fps: float = Field(30.0, gt=0, le=240, description="Requested capture frame rate.")
    fourcc: Literal["auto", "MJPG", "YUYV", "H264"] = Field(
        "auto",
        description="Pixel format asked of the camera. 'auto' asks for MJPG at 1280x720 and "
        "above (most USB webcams deliver only 5-10 fps uncompressed there) and lets the driver "
        "choose below.",
    )
    mode: Literal["always", "on-demand", "manual"] = Field(
        "always",
        description="'always' keeps the camera open; 'on-demand' opens it only while an app "
        "reads the VCamSwap camera (Linux; elsewhere it behaves as manual) and closes it "
        "after `grace_s`; 'manual' starts paused until `vcamswap ctl enable` or the tray.",
    )
    grace_s: float = Field(
        5.0,
        ge=0.0,
        le=600.0,
        description="on-demand: seconds without a reader before the camera closes.",
    )
    backend: Literal["auto", "v4l2", "dshow", "msmf", "avfoundation", "any"] = Field(
        "auto",
        description="OpenCV capture backend. 'auto' picks V4L2 on Linux, DirectShow on "
        "Windows (fast to open, and its device order is the one camera names resolve "
        "against), AVFoundation on macOS.",
    )
    login_mode: Literal["auto", "always", "on-demand", "manual"] = Field(
        "auto",
        description="Camera mode when started at login (the autostart entry runs `vcamswap run "
        "--at-login`): 'auto' is on-demand on Linux and manual elsewhere, so the webcam is "
        "closed until you need it.",
    )
    mirror: bool = Field(False, description="Flip the image left-right (selfie view).")
    rotate: Literal[0, 90, 180, 270] = Field(
        0,
        description="Rotate the image clockwise by this many degrees (a camera mounted "
        "sideways or upside down).",
    )
    zoom: float = Field(
        1.0,
        ge=1.0,
        le=4.0,
        description="Digital zoom: crop the centre by this factor and scale it back to the "
        "capture size (1 = off).",
    )
    pan: tuple[float, float] = Field(
        (0.0, 0.0),
        description="With zoom: where the crop sits, x and y from -1 (left/top) to 1 "
        "(right/bottom); 0,0 is the centre.",
    )

    @field_validator("pan")
    @classmethod
    def _pan_in_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not all(-1.0 <= v <= 1.0 for v in value):
            raise ValueError("each of x and y must be between -1 and 1")
        return value


class OutputConfig(Section):
    """Where swapped frames go."""

    target: str = Field(
        "virtual",
        description="'virtual' for the VCamSwap virtual camera, 'file:PATH' to record an mp4, "
        "'null' to discard frames (benchmarks).",
    )
    device_name: str = Field(
        "VCamSwap",
        min_length=1,
        description="Name of the virtual camera: the v4l2loopback card_label on Linux, the "
        "Unity Capture device name on Windows (tried before OBS). OBS Virtual Camera keeps its "
        "own name (macOS, and Windows without Unity Capture); the log and `vcamswap doctor` "
        "say which name to pick in your video app.",
    )
    width: int | None = Field(
        None,
        ge=160,
        le=7680,
        description="Fixed output width; frames are fitted with their aspect ratio kept. "
        "Empty follows the camera's size.",
    )
    height: int | None = Field(
        None, ge=120, le=4320, description="Fixed output height; empty follows the camera."
    )
    fps: float = Field(
        30.0,
        gt=0,
        le=120,
        description="Rate announced to the virtual camera and the rate at which the last frame "
        "is re-sent when no new one is ready, so video apps never lose the device.",
    )
    backend: str | None = Field(
        None,
        description="pyvirtualcam backend ('v4l2loopback', 'obs', 'unitycapture'); empty tries "
        "each available one.",
    )
