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


def _onnxruntime() -> Iterator[Check]:
    if importlib.util.find_spec("onnxruntime") is None:
        yield Check("onnxruntime", "WARN", "not installed: the neural engine is unavailable",
                    "pip install 'vcamswap[neural]' (CPU) or 'vcamswap[gpu]' (NVIDIA)")
        return
    import onnxruntime

    providers = onnxruntime.get_available_providers()
    yield Check("onnxruntime", "OK",
                f"{onnxruntime.__version__}: providers {', '.join(providers)}")
    if _version("onnxruntime-gpu") and "CUDAExecutionProvider" not in providers:
        yield Check("cuda", "WARN", "onnxruntime-gpu is installed but CUDAExecutionProvider is "
                    "missing: the CUDA/cuDNN libraries it needs were not found",
                    "install the CUDA runtime and cuDNN matching onnxruntime-gpu "
                    "(pip install 'onnxruntime-gpu[cuda,cudnn]') and check LD_LIBRARY_PATH")
    if "CUDAExecutionProvider" in providers:
        yield _cuda_starts(onnxruntime)
    if _version("onnxruntime-gpu") and _version("onnxruntime"):
        yield Check("onnxruntime-packages", "WARN", "both onnxruntime and onnxruntime-gpu are "
                    "installed; they provide the same module",
                    "pip uninstall onnxruntime onnxruntime-gpu, then install one of them")


def _cuda_starts(onnxruntime: Any) -> Check:
    """onnxruntime lists CUDA whenever its provider library is there, even when the CUDA or
    cuDNN libraries it needs are not: only a session tells."""
    from vcamswap.inference.session import gpu_fallback_message, probe_providers

    try:
        got = probe_providers(["cuda"])
    except ImportError:
        return Check("cuda", "WARN", "cannot check that CUDA starts without the onnx package",
                     "pip install onnx")
    except Exception as exc:
        return Check("cuda", "FAIL", f"a CUDA session could not be created: {exc}",
                     "reinstall onnxruntime-gpu with its CUDA libraries "
                     "(pip install 'onnxruntime-gpu[cuda,cudnn]')")
    if "CUDAExecutionProvider" not in got:
        message, _, fix = gpu_fallback_message(
            onnxruntime, "CUDAExecutionProvider", got).partition(". Fix: ")
        return Check("cuda", "WARN", message, fix.removesuffix("; `vcamswap doctor` checks it"))
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
    available = [p for p in onnxruntime.get_available_providers()
                 if not (gpu_broken and p in GPU_PROVIDERS)]
    providers = resolve_providers(config.models.providers, available).providers
    device = device_for(mode, list(providers[:1]))
    if device == "cuda":
        graphs = " as CUDA graphs" if config.models.cuda_graph else ""
        yield Check("device-compositing", "OK", f"{mode}: crop, colour, paste and enhancer run "
                    f"on the GPU next to the models{graphs} (the window around the faces "
                    "uploaded and downloaded once)")
    elif device == "cpu":
        yield Check("device-compositing", "WARN", "on, but the models run on "
                    f"{providers[0]}: the paste graph is slower there than the OpenCV path "
                    "(measured 8.7 vs 3.4 ms per 720p face on 2 cores)",
                    "set models.device_compositing: auto")
    else:
        yield Check("device-compositing", "OK", f"{mode}: the neural engine crops and pastes "
                    f"with OpenCV on the CPU (models on {providers[0]})")


def _virtual_camera() -> Iterator[Check]:
    from vcamswap.devices.sinks import virtual_camera_fix
    from vcamswap.devices.sources import list_video_devices

    if sys.platform.startswith("linux"):
        devices = list_video_devices()
        loopback = [d for d in devices if any(k in d[1].lower() for k in
                                              ("vcamswap", "dummy", "loopback"))]
        cameras = [d for d in devices if d not in loopback]
        yield (Check("cameras", "OK", ", ".join(f"{p} ({n})" for p, n in cameras)) if cameras
               else Check("cameras", "WARN", "no camera found",
                          "plug in a webcam, or use --camera pattern / file:PATH"))
        if loopback:
            yield Check("virtual-camera", "OK", ", ".join(f"{p} ({n})" for p, n in loopback))
        else:
            yield Check("virtual-camera", "FAIL", "no v4l2loopback device", virtual_camera_fix())
        return
    yield Check("virtual-camera", "WARN", "not checked on this OS before the first run",
                virtual_camera_fix())


def _models(config: Config, paths: AppPaths) -> Iterator[Check]:
    from vcamswap.inference.catalog import engine_models
    from vcamswap.processors.engines import model_store

    store = model_store(config, paths)
    for spec in engine_models(config.models.swapper, config.swap.enhancer):
        result = store.verify(spec)
        if result.ok:
            yield Check(f"model {spec.name}", "OK", f"{result.path} verified")
        elif result.state == "missing":
            yield Check(f"model {spec.name}", "WARN", f"{spec.file} not downloaded (the lite "
                        "engine is used)", f"vcamswap models fetch {spec.name}")
        else:
            yield Check(f"model {spec.name}", "FAIL",
                        result.message(store.accepted(spec)).split(". ")[0],
                        f"delete {result.path} and run vcamswap models fetch {spec.name}")


def _content_check(config: Config) -> Iterator[Check]:
    check = config.safety.content_check
    if not check.enabled:
        yield Check("content-check", "WARN", "off: explicit material is not refused; you are "
                    "responsible for what you swap", "set safety.content_check.enabled: true")
        return
    try:
        from vcamswap.inference.content import PACKAGED_SHA256, packaged_model
        from vcamswap.inference.store import file_sha256

        path = packaged_model()
        if file_sha256(path) != PACKAGED_SHA256:
            yield Check("content-check", "FAIL", f"{path} is not the expected nudenet model",
                        "pip install --force-reinstall nudenet==3.4.2")
            return
        yield Check("content-check", "OK", f"on (threshold {check.threshold}, live every "
                    f"{check.live_interval_s:g} s, action {check.action}); model {path.name} "
                    "from the nudenet package (AGPL-3.0)")
    except VCamSwapError as exc:
        yield Check("content-check", "FAIL", str(exc).split(":")[0],
                    "pip install nudenet==3.4.2")


def _camera_mode(config: Config) -> Iterator[Check]:
    mode = config.camera.mode
    if mode != "on-demand":
        yield Check("camera-mode", "OK", f"{mode}; login items start {config.camera.login_mode}"
                    " (on-demand on Linux, manual elsewhere)"
                    if config.camera.login_mode == "auto" else f"{mode}")
        return
    if not sys.platform.startswith("linux"):
        yield Check("camera-mode", "WARN", f"on-demand has no reader signal on {sys.platform}: "
                    "it behaves as manual", "use the tray or `vcamswap ctl enable`")
        return
    from vcamswap.devices.sources import find_linux_camera
    from vcamswap.devices.v4l2events import ClientUsageWatcher

    device = find_linux_camera(config.output.device_name)
    if device is None:
        yield Check("camera-mode", "WARN", "on-demand: no v4l2loopback device, so no reader "
                    "signal; it behaves as manual", "load v4l2loopback (see virtual-camera)")
        return
    watcher = ClientUsageWatcher(device)
    try:
        watcher.open()
        watcher.close()
        yield Check("camera-mode", "OK", f"on-demand: client-usage events on {device}")
    except OSError as exc:
        yield Check("camera-mode", "OK", f"on-demand: {device} via a /proc check each second "
                    f"({exc})", "v4l2loopback 0.13+ reports readers at once")


def _remote(config: Config) -> Iterator[Check]:
    remote = config.models.remote
    if not remote.url:
        return
    try:
        from vcamswap.inference.catalog import CATALOG, engine_models
        from vcamswap.inference.remote import RemoteModels

        client = RemoteModels(remote.url, ca_file=remote.ca_file,
                              timeout_s=max(remote.timeout_ms / 1000.0, 2.0), names=remote.names)
        roles = set(remote.models)
        checked = []
        for spec in engine_models(config.models.swapper, config.swap.enhancer):
            if spec.role in roles:
                client.session(spec)
                checked.append(client.served_name(spec))
        if "swapper" in roles:
            client.emap(CATALOG[config.models.swapper])
        yield Check("remote", "WARN" if not remote.url.startswith("grpcs://") else "OK",
                    f"{remote.url}: {', '.join(checked)} ready. Face crops leave this machine "
                    "for that server", "use grpcs:// (TLS) unless the network is private"
                    if not remote.url.startswith("grpcs://") else "")
    except VCamSwapError as exc:
        yield Check("remote", "FAIL", str(exc).split(" Fix: ")[0],
                    str(exc).split(" Fix: ")[-1] if " Fix: " in str(exc) else "")


def run_doctor(paths: AppPaths) -> Iterator[Check]:
    yield Check("python", "OK" if sys.version_info >= (3, 10) else "FAIL",
                sys.version.split()[0], "" if sys.version_info >= (3, 10) else "use 3.10+")
    try:
        config = load_config(paths.config_file)
        yield Check("config", "OK", f"{paths.config_file} valid (or defaults)")
    except VCamSwapError as exc:
        config = Config()
        yield Check("config", "FAIL", f"{paths.config_file}: {exc}",
                    f"vcamswap check-config {paths.config_file}")
    packages = ["numpy", "opencv-python-headless", "pydantic", "av", "pyvirtualcam", "dlib-bin",
                "face_recognition_models", "pystray", "Pillow"]
    missing = [p for p in packages if _version(p) is None]
    yield (Check("packages", "FAIL", f"missing: {', '.join(missing)}", "pip install -e .")
           if missing else Check("packages", "OK", "all required packages installed"))
    try:
        from vcamswap.inference.landmarks import packaged_model

        packaged_model("shape_predictor_68_face_landmarks.dat")
        yield Check("lite-engine", "OK", "dlib and its landmark model are installed")
    except VCamSwapError as exc:
        yield Check("lite-engine", "FAIL", str(exc), "pip install face_recognition_models")
    runtime = list(_onnxruntime())
    yield from runtime
    gpu_broken = any(c.name == "cuda" and c.level != "OK" for c in runtime)
    yield from _device_compositing(config, gpu_broken)
    yield from _content_check(config)
    yield from _models(config, paths)
    yield from _remote(config)
    yield from _camera_mode(config)
    yield from _virtual_camera()
    try:
        from vcamswap.autostart.backends import for_this_system

        backend = for_this_system(paths.log_dir)
        yield Check("autostart", "OK", f"{backend.name}: "
                    f"{'enabled' if backend.enabled() else 'disabled'}")
    except (VCamSwapError, ImportError) as exc:
        yield Check("autostart", "WARN", str(exc))
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY") \
            and not os.environ.get("WAYLAND_DISPLAY"):
        yield Check("tray", "WARN", "no DISPLAY: the daemon runs without a tray icon",
                    "run it inside a desktop session, or use --no-tray")
    else:
        backend_name = os.environ.get("PYSTRAY_BACKEND", "default")
        yield Check("tray", "OK", f"pystray backend: {backend_name}")
