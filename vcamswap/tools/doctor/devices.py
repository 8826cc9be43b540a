"""Doctor's checks of the cameras: the virtual camera, camera permission and the camera mode."""

from __future__ import annotations

from collections.abc import Iterator

from vcamswap.config import Config
from vcamswap.platforms import CameraListError, Platform
from vcamswap.platforms.cameras import describe
from vcamswap.tools.doctor.check import Check

VIRTUAL_NAMES = ("vcamswap", "dummy", "loopback", "obs virtual camera", "unity video capture")


def virtual_camera_checks(platform: Platform, device_name: str) -> Iterator[Check]:
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
        yield camera_permission(platform)


def camera_permission(platform: Platform) -> Check:
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


def camera_mode_checks(config: Config, platform: Platform) -> Iterator[Check]:
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
