"""`vcamswap doctor`: what works on this machine and what to fix, one line each."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

from vcamswap.config import AppPaths, load_config
from vcamswap.errors import VCamSwapError


def _video_devices(sysfs: Path = Path("/sys/class/video4linux")) -> list[tuple[str, str]]:
    if not sysfs.is_dir():
        return []
    found = []
    for entry in sorted(sysfs.iterdir()):
        try:
            found.append((f"/dev/{entry.name}", (entry / "name").read_text().strip()))
        except OSError:
            continue
    return found


def run_doctor(paths: AppPaths) -> Iterator[tuple[str, bool]]:
    """Yield (message, ok) pairs."""
    yield f"python {sys.version.split()[0]}", sys.version_info >= (3, 10)
    try:
        load_config(paths.config_file)
        yield f"config {paths.config_file}: valid (or defaults)", True
    except VCamSwapError as exc:
        yield f"config {paths.config_file}: {exc}; run `vcamswap check-config`", False
    try:
        from vcamswap.inference.landmarks import packaged_model

        packaged_model("shape_predictor_68_face_landmarks.dat")
        ok = importlib.util.find_spec("dlib") is not None
        yield ("lite engine: dlib and its landmark model are installed" if ok else
               "lite engine: dlib missing; pip install dlib-bin"), ok
    except VCamSwapError as exc:
        yield f"lite engine: {exc}", False
    if importlib.util.find_spec("onnxruntime") is None:
        yield ("neural engine: onnxruntime not installed (pip install 'vcamswap[neural]' or "
               "'vcamswap[gpu]')"), True
    else:
        import onnxruntime

        providers = ", ".join(onnxruntime.get_available_providers())
        yield f"onnxruntime {onnxruntime.__version__}: providers {providers}", True
    if sys.platform.startswith("linux"):
        devices = _video_devices()
        loopback = [d for d in devices if "vcamswap" in d[1].lower() or "dummy" in d[1].lower()
                    or "loopback" in d[1].lower()]
        cameras = [d for d in devices if d not in loopback]
        yield (f"cameras: {', '.join(f'{p} ({n})' for p, n in cameras)}" if cameras else
               "cameras: none found (plug in a webcam, or use --camera pattern / file:PATH)",
               bool(cameras))
        if loopback:
            yield f"virtual camera: {', '.join(f'{p} ({n})' for p, n in loopback)}", True
        else:
            from vcamswap.devices.sinks import virtual_camera_fix

            yield f"virtual camera: no v4l2loopback device; {virtual_camera_fix()}", False
