"""The configuration schema: pydantic v2 models, unknown keys rejected, every field described.

The YAML file, `config/default.yaml` (comments included) and `config/schema.json` are all generated
from these models, so the description here is the one documentation of each setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Engine = Literal["auto", "neural", "lite"]
OnFaceLost = Literal["passthrough", "blur", "freeze", "placeholder"]
Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
ModelRole = Literal["detector", "embedder", "swapper", "enhancer"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


def _yaml_switch(value: object) -> object:
    """YAML 1.1 reads a bare on/off as a boolean; for 'on'/'off' choices take what was meant."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return value


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
        5.0, ge=0.0, le=600.0,
        description="on-demand: seconds without a reader before the camera closes.")
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
        0, description="Rotate the image clockwise by this many degrees (a camera mounted "
        "sideways or upside down).")
    zoom: float = Field(
        1.0, ge=1.0, le=4.0,
        description="Digital zoom: crop the centre by this factor and scale it back to the "
        "capture size (1 = off).")
    pan: tuple[float, float] = Field(
        (0.0, 0.0),
        description="With zoom: where the crop sits, x and y from -1 (left/top) to 1 "
        "(right/bottom); 0,0 is the centre.")

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


class SwapConfig(Section):
    """What happens to each frame."""

    enabled: bool = Field(True, description="Swap faces; off passes the camera through.")
    engine: Engine = Field(
        "auto",
        description="'neural' (SCRFD + ArcFace + inswapper, needs the model files, fast on a "
        "GPU), 'lite' (dlib landmarks, CPU real time, no downloads) or 'auto' (neural when its "
        "verified model files are present, else lite).",
    )
    faces_dir: Path | None = Field(
        None,
        description="Folder of source face photos. Empty uses the user data folder "
        "(e.g. ~/.local/share/vcamswap/faces).",
    )
    face: str | None = Field(
        None,
        description="Name of the current source face in the faces folder, or a path to an "
        "image. Empty uses the first face in the folder.",
    )
    sources: list[str] = Field(
        default_factory=list,
        description="Neural engine with many_faces: several source faces (names or paths); "
        "each face in the frame gets the source it resembles most (ArcFace similarity). "
        "Empty: every face gets the current face.",
    )
    enhancer: bool = Field(False, description="Run the GFPGAN face enhancer (neural engine).")
    enhancer_every: int = Field(
        1, ge=1, le=10, description="Run the enhancer on every Nth frame; in between the "
        "cached result is pasted again."
    )
    mouth_mask: bool = Field(False, description="Keep the target's own mouth (lip sync).")
    color_correction: bool = Field(
        True, description="Match the swapped face's colour to the target's skin."
    )
    opacity: float = Field(
        1.0, ge=0.0, le=1.0, description="Blend of the swapped face over the original (0..1)."
    )
    sharpness: float = Field(
        0.0, ge=0.0, le=1.0, description="Unsharp mask applied to the swapped face (0..1)."
    )
    many_faces: bool = Field(
        False, description="Swap every face in the frame instead of only the largest."
    )
    on_face_lost: OnFaceLost = Field(
        "passthrough",
        description="Privacy guard: what to show when the swap fails on a frame after a face "
        "was tracked. 'passthrough' shows the camera frame, 'blur' blurs the last known face "
        "region, 'freeze' repeats the last swapped frame, 'placeholder' shows a still card.",
    )
    detect_every: int = Field(
        10,
        ge=1,
        le=300,
        description="Lite engine: run the face detector every Nth frame (on a side thread); "
        "faces are tracked from their landmarks in between.",
    )
    neural_detect_every: int = Field(
        1,
        ge=1,
        le=30,
        description="Neural engine: run SCRFD every Nth frame; in between the last keypoints "
        "are reused (smoothed). 2 roughly halves detection cost at the price of one frame of "
        "lag on fast motion.",
    )
    neural_detect_async: bool = Field(
        True,
        description="Neural engine, live: run SCRFD on a side thread on the newest frame while "
        "the swap uses the latest keypoints (at most a frame older). Measured on a 2-core CPU "
        "with generated models: 34 -> 42 fps at 720p. Files always detect inline.",
    )


class GovernorConfig(Section):
    """Adaptive quality: hold the camera's frame rate when processing cannot keep up."""

    mode: Literal["auto", "off", "pinned"] = Field(
        "auto",
        description="'auto' steps quality down a per-engine ladder when the swap falls behind "
        "the camera (enhancer every Nth frame, then off; detection less often; smaller "
        "detector input; face blended at lower resolution) and back up when there is "
        "headroom; 'off' always runs full quality; 'pinned' holds `level`.",
    )
    level: int = Field(
        0, ge=0, le=20,
        description="With mode 'pinned': the ladder step to hold (0 = full quality; "
        "`vcamswap ctl status` lists the steps of the running engine).",
    )
    _mode_switch = field_validator("mode", mode="before")(_yaml_switch)
    window_s: float = Field(
        2.0, ge=0.5, le=30.0,
        description="Seconds of measurements behind each decision; every change waits at "
        "least this long, a step up that had to be undone waits twice as long next time.",
    )


class ModelOverride(Section):
    """A user-supplied model file replacing a catalog entry."""

    path: Path = Field(description="Path to the ONNX file.")
    sha256: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$", description="Expected sha256 digest of that file."
    )


class RemoteConfig(Section):
    """Run some neural models on a Triton Inference Server (a GPU box on your network).
    Face crops leave this machine: opt in only for a server you trust."""

    url: str | None = Field(
        None,
        description="Triton's gRPC address, grpc://HOST:8001 or grpcs://HOST:PORT (TLS); empty "
        "runs every model here. Plaintext to a non-loopback host logs a warning.",
    )
    ca_file: Path | None = Field(
        None, description="grpcs: the CA certificate (PEM) that signed the server's.")
    models: list[ModelRole] = Field(
        default_factory=lambda: list[ModelRole](["swapper", "enhancer"]),
        description="Which models run remotely. The detector's input is 25x a face crop, so "
        "it stays local by default.",
    )
    names: dict[str, str] = Field(
        default_factory=dict,
        description="Served model name per catalog name when they differ (e.g. "
        "inswapper_128: swapper).",
    )
    timeout_ms: float = Field(
        300.0, ge=10.0, le=10000.0,
        description="Per-request timeout; a late or lost server is skipped (the privacy guard "
        "decides what shows) and retried with a backoff, never stalling the camera.",
    )

    @field_validator("url")
    @classmethod
    def _grpc_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("grpc://", "grpcs://")):
            raise ValueError("use grpc://HOST:PORT or grpcs://HOST:PORT (Triton's gRPC port)")
        return value or None


class ModelsConfig(Section):
    """Neural model files and how they run."""

    folder: Path | None = Field(
        None,
        description="Folder of downloaded model files. Empty uses the user data folder "
        "(e.g. ~/.local/share/vcamswap/models).",
    )
    providers: list[str] = Field(
        default_factory=lambda: ["auto"],
        description="onnxruntime execution providers in order of preference: 'auto' "
        "(CUDA > TensorRT > CoreML > DirectML > OpenVINO > CPU) or names such as 'cuda', 'cpu'.",
    )
    swapper: Literal["inswapper_128", "inswapper_128_fp16"] = Field(
        "inswapper_128", description="Which swapper file to use; fp16 is faster on GPUs."
    )
    cuda_graph: bool = Field(
        True,
        description="CUDA only (ignored on other providers and behind TensorRT): replay the "
        "swapper as a captured CUDA graph (one face at a time, ignored with many_faces; "
        "measured 3.0 -> 2.2 ms per call on an H100) and, with device compositing, the "
        "crop/paste graphs (one capture per window size and face count; 1 face at 720p on an "
        "H200: 147 -> 209 fps). A model or graph onnxruntime cannot capture runs without, "
        "with one warning.",
    )
    device_compositing: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Neural engine: crop, colour-correct, paste and enhance faces on the "
        "models' device (the part of the frame around the faces uploaded and downloaded once) "
        "instead of on the CPU. 'auto' "
        "turns it on when the swapper runs on CUDA or TensorRT; 'on' also on other providers "
        "(on a CPU it is slower than OpenCV); 'off' always uses the CPU path.",
    )
    _compositing_switch = field_validator("device_compositing", mode="before")(_yaml_switch)
    overrides: dict[str, ModelOverride] = Field(
        default_factory=dict,
        description="Per catalog model name, your own file and its sha256 instead of the "
        "catalog's.",
    )
    remote: RemoteConfig = Field(default_factory=RemoteConfig,
                                 description="Remote inference (Triton).")


class TrayConfig(Section):
    """The system tray icon."""

    enabled: bool = Field(True, description="Show a tray icon (falls back to none if the "
                          "desktop has no tray).")


class ControlConfig(Section):
    """The loopback control API used by `vcamswap ctl`, the tray and the preview page."""

    enabled: bool = Field(True, description="Serve the control API on 127.0.0.1.")
    port: int = Field(
        8765, ge=0, le=65535, description="TCP port on 127.0.0.1 (0 picks a free port)."
    )
    preview_fps: float = Field(
        10.0, gt=0, le=30, description="Frame rate of the browser preview stream."
    )


class LabelConfig(Section):
    """The visible synthetic-media badge drawn on swapped frames."""

    enabled: bool = Field(
        True,
        description="Draw the badge. Turning it off makes you responsible for telling viewers "
        "that the video is synthetic.",
    )
    text: str = Field("AI-generated", min_length=1, max_length=40, description="Badge text.")
    position: Corner = Field("bottom-right", description="Corner of the frame for the badge.")
    scale: float = Field(
        1.0, ge=0.5, le=4.0, description="Badge size relative to the default (0.5..4)."
    )
    opacity: float = Field(0.85, ge=0.3, le=1.0, description="Badge opacity (0.3..1).")


class ContentCheckConfig(Section):
    """The built-in check for explicit material (NudeNet, offline, on the CPU)."""

    enabled: bool = Field(
        True,
        description="Check source faces, offline inputs and (every `live_interval_s`) the "
        "live camera for explicit material. Turning it off makes you responsible for never "
        "swapping faces into, or out of, explicit material.",
    )
    threshold: float = Field(
        0.5, ge=0.05, le=0.99,
        description="Score from which an explicit label (exposed genitalia, breasts, "
        "buttocks, anus) flags an image; lower is stricter.",
    )
    live_interval_s: float = Field(
        2.0, ge=0.5, le=60.0,
        description="Seconds between checks of the live camera (on a low-priority thread, "
        "never delaying a frame).",
    )
    action: Literal["pause", "blank"] = Field(
        "pause",
        description="Live hit: 'pause' stops the swap and shows a card until you re-enable "
        "the swap (tray or `vcamswap ctl enable`); 'blank' shows the card while the camera "
        "is flagged and resumes by itself once a check finds it clean. Offline jobs always "
        "stop and leave no output file.",
    )
    model: Literal["packaged", "nudenet_640m"] = Field(
        "packaged",
        description="'packaged' uses the 320n model inside the nudenet package; "
        "'nudenet_640m' the larger model, fetched with `vcamswap models fetch nudenet_640m`.",
    )


class SafetyConfig(Section):
    """Consent, labelling and the content check."""

    consent_accepted: bool = Field(
        False,
        description="Set when you accepted the consent notice: you have the consent of the "
        "person whose face you use, you label the output as synthetic, and local laws apply.",
    )
    label: LabelConfig = Field(default_factory=LabelConfig, description="Visible label.")
    content_check: ContentCheckConfig = Field(default_factory=ContentCheckConfig,
                                              description="Content check.")
    max_image_megapixels: float = Field(
        50.0, ge=1.0, le=150.0,
        description="Largest image file read (photos, source faces, content-check), in "
        "megapixels, checked from the file's header before decoding: larger files are refused "
        "(a small PNG can declare a picture that decodes to gigabytes).",
    )

    @property
    def max_image_pixels(self) -> int:
        return int(self.max_image_megapixels * 1_000_000)


class LoggingConfig(Section):
    """Log output."""

    level: LogLevel = Field("INFO", description="Log level; `-v` on the command line "
                            "raises it to DEBUG.")
    file: bool = Field(True, description="Also write a rotating log file in the user log "
                       "folder.")
    max_bytes: int = Field(
        1_000_000, ge=10_000, description="Size at which the log file rotates."
    )
    backups: int = Field(3, ge=0, le=20, description="Rotated log files kept.")


class Config(Section):
    """VCamSwap settings."""

    camera: CameraConfig = Field(default_factory=CameraConfig, description="Physical webcam.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="Output.")
    swap: SwapConfig = Field(default_factory=SwapConfig, description="Face swap.")
    governor: GovernorConfig = Field(default_factory=GovernorConfig,
                                     description="Quality governor.")
    models: ModelsConfig = Field(default_factory=ModelsConfig, description="Model files.")
    tray: TrayConfig = Field(default_factory=TrayConfig, description="Tray icon.")
    control: ControlConfig = Field(default_factory=ControlConfig, description="Control API.")
    safety: SafetyConfig = Field(default_factory=SafetyConfig, description="Safety.")
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="Logging.")
