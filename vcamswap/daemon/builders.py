"""Builders: a Config into concrete sources, processors, sinks, controls and the control server,
wired into the pipeline's Protocols; `App` (daemon/app.py) calls them in its start order."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from vcamswap.autostart.backends import for_this_system
from vcamswap.config import AppPaths, Config
from vcamswap.config.loader import write_text_atomic
from vcamswap.config.models import CameraConfig, OutputConfig
from vcamswap.control.server import ControlServer
from vcamswap.control.token import write_token
from vcamswap.daemon.controls import DaemonControls
from vcamswap.daemon.panel_service import PanelService
from vcamswap.devices.imaging import TextCardRenderer
from vcamswap.devices.readers import ProcReaderCount
from vcamswap.devices.sinks import NullSink, RecordingSink, VirtualCameraSink
from vcamswap.devices.sources import OpenCvCameraSource, TestPatternSource, VideoFileSource
from vcamswap.devices.transform import CameraTransform, TransformedSource
from vcamswap.devices.v4l2events import ClientUsageWatcher
from vcamswap.errors import ConfigError, VCamSwapError
from vcamswap.facelib.library import FaceLibrary
from vcamswap.i18n import N_, _
from vcamswap.labels import container_tags
from vcamswap.pipeline.demand import DemandController
from vcamswap.pipeline.protocols import FrameProcessor, FrameSink, FrameSource
from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
from vcamswap.platforms import Platform, current_platform
from vcamswap.processors.engines import build_swap_processor
from vcamswap.processors.faces import folder_resolver
from vcamswap.runtime import RuntimeState, Toggles
from vcamswap.safety.content import ContentClassifier, ContentVerdict, LiveContentMonitor
from vcamswap.safety.guard import PrivacyGuard
from vcamswap.tray.icon import desktop_opener, run_tray
from vcamswap.tray.menu import build_menu

log = logging.getLogger(__name__)


def build_source(
    spec: int | str, camera: CameraConfig, platform: Platform | None = None
) -> FrameSource:
    """``pattern``, ``file:PATH``, or a camera index, path or name; with the camera options
    (mirror, rotation, zoom) applied on the capture thread."""
    source: FrameSource
    if spec == "pattern":
        source = TestPatternSource(camera.width, camera.height, camera.fps)
    elif isinstance(spec, str) and spec.startswith("file:"):
        source = VideoFileSource(Path(spec[5:]).expanduser())
    else:
        source = OpenCvCameraSource(
            spec,
            camera.width,
            camera.height,
            camera.fps,
            fourcc=camera.fourcc,
            backend=camera.backend,
            platform=platform,
        )
    transform = CameraTransform(camera.mirror, camera.rotate, camera.zoom, camera.pan)
    return source if transform.identity else TransformedSource(source, transform)


def build_sink(
    spec: str,
    output: OutputConfig,
    expected_size: tuple[int, int],
    platform: Platform | None = None,
) -> FrameSink:
    """``virtual``, ``file:PATH`` or ``null``."""
    if spec == "virtual":
        return VirtualCameraSink(
            width=output.width,
            height=output.height,
            fps=output.fps,
            device_name=output.device_name,
            backend=output.backend,
            initial_size=expected_size,
            platform=platform,
        )
    if spec.startswith("file:"):
        return RecordingSink(Path(spec[5:]).expanduser(), fps=output.fps, tags=container_tags())
    if spec == "null":
        return NullSink()
    raise ConfigError(
        _("unknown output {output}: use 'virtual', 'file:PATH' or 'null'").format(output=repr(spec))
    )


@dataclass(frozen=True, slots=True)
class RunSpec:
    """What `vcamswap run` overrides on the command line."""

    camera: int | str | None = None
    output: str | None = None


def build_supervisor(
    config: Config,
    paths: AppPaths,
    spec: RunSpec,
    processor: FrameProcessor | None = None,
    content: ContentClassifier | None = None,
    platform: Platform | None = None,
) -> Supervisor:
    camera_spec = spec.camera if spec.camera is not None else config.camera.device
    output_spec = spec.output or config.output.target
    size = (
        config.output.width or config.camera.width,
        config.output.height or config.camera.height,
    )
    state = RuntimeState(
        Toggles(
            swap_enabled=config.swap.enabled,
            face=config.swap.face,
            enhancer=config.swap.enhancer,
            mouth_mask=config.swap.mouth_mask,
            paused=config.camera.mode != "always",
        )
    )
    return Supervisor(
        build_source(camera_spec, config.camera, platform),
        processor or build_swap_processor(config, paths, state, content=content),
        build_sink(output_spec, config.output, size, platform),
        TextCardRenderer(),
        state=state,
        policy=build_policy(config),
        options=PipelineOptions(
            output_fps=config.output.fps,
            default_size=size,
            governor=config.governor.mode,
            governor_level=config.governor.level,
            governor_window_s=config.governor.window_s,
        ),
    )


def build_policy(config: Config) -> PrivacyGuard:
    """swap.on_face_lost as the privacy guard, with the card renderer for its reasons."""
    return PrivacyGuard(config.swap.on_face_lost, TextCardRenderer().render)


def start_on_demand(config: Config, supervisor: Supervisor, sink: object) -> None:
    """camera.mode on-demand: follow the virtual camera's readers (Linux); elsewhere, or
    without a loopback device, it behaves as manual and says so once."""
    if config.camera.mode != "on-demand":
        return
    device = getattr(sink, "device_path", None)
    if not sys.platform.startswith("linux") or not device:
        log.warning(
            "camera.mode on-demand: no reader signal here (%s); behaving as manual: "
            "`vcamswap ctl enable` or the tray opens the camera",
            "no v4l2loopback device" if sys.platform.startswith("linux") else sys.platform,
        )
        return
    counter = ProcReaderCount(device)
    watcher = ClientUsageWatcher(device)
    events: Callable[[float], int | None] | None = watcher.wait
    try:
        watcher.open()
        how = "client-usage events, checked against /proc every 10 s"
    except OSError as exc:
        events = None
        how = "a /proc check every second"
        log.info("on-demand: %s; using %s", exc, how)
    DemandController(
        counter.count,
        supervisor.state,
        supervisor.stop_event,
        grace=config.camera.grace_s,
        events=events,
    ).start()
    log.info("camera.mode on-demand: the camera opens while an app reads %s (%s)", device, how)


def build_controls(
    config: Config,
    paths: AppPaths,
    supervisor: Supervisor,
    config_file: Path | None,
    reloader: Any = None,
) -> DaemonControls:
    """``reloader`` (vcamswap.daemon.reload.Reloader) makes `ctl reload` and the file watcher
    one path."""
    library = FaceLibrary(config.swap.faces_dir or paths.faces_dir)
    return DaemonControls(
        supervisor,
        folder_resolver(library.folder, config.safety.max_image_pixels),
        library.names,
        config_file,
        config.swap.engine,
        # Looked up per call: a hot reload may replace the processor.
        lambda name: getattr(supervisor.processor, "prefetch", _none)(name),  # noqa: PLW0108
        reloader.reload if reloader else None,
        (lambda: reloader.problems) if reloader else None,
        config.camera.mode,
        config.models.remote.url if config.swap.engine != "lite" else None,
    )


def _none(_name: str) -> None:
    return None


def start_control(
    config: Config,
    paths: AppPaths,
    controls: DaemonControls,
    platform: Platform | None = None,
    content: ContentClassifier | None = None,
) -> ControlServer | None:
    """The loopback control API, preview and panel (whose photos go through ``content``, the
    daemon's one content classifier); a busy port is logged and the daemon goes on."""
    if not config.control.enabled:
        return None
    token = write_token(paths.token_file)
    server = ControlServer(
        controls,
        token,
        config.control.port,
        config.control.preview_fps,
        platform,
        panel=build_panel(config, paths, controls, platform or current_platform(), content),
        language=config.ui.language,
    )
    try:
        server.start()
    except OSError as exc:
        log.error(
            "control API not started: 127.0.0.1:%d is unavailable (%s); set "
            "control.port to a free port (0 picks one)",
            config.control.port,
            exc,
        )
        return None
    write_text_atomic(paths.port_file, f"{server.port}\n")
    return server


def build_panel(
    config: Config,
    paths: AppPaths,
    controls: DaemonControls,
    platform: Platform,
    content: ContentClassifier | None,
) -> PanelService:
    """The control panel's backend over the running daemon."""
    from vcamswap.tools.doctor.run import run_doctor

    folder = config.swap.faces_dir or paths.faces_dir

    def library() -> FaceLibrary:
        return FaceLibrary(folder, content=content, max_pixels=config.safety.max_image_pixels)

    def cameras() -> list[tuple[str, str]]:
        try:
            return [(str(c.index), c.name) for c in platform.cameras()]
        except VCamSwapError:
            return []

    def checks() -> list[dict[str, Any]]:
        return [
            {"name": c.name, "ok": c.level == "OK", "detail": c.message, "fix": c.fix}
            for c in run_doctor(paths, platform)
        ]

    return PanelService(controls, library, controls.config_file, cameras, checks, paths.models_dir)


def tray_foreground(
    config: Config,
    paths: AppPaths,
    controls: DaemonControls,
    server: ControlServer | None,
    config_file: Path,
    platform: Platform | None = None,
) -> Callable[[threading.Event], bool]:
    """The tray, to run on the main thread; returns False when no tray could be shown."""

    def run(stop: threading.Event) -> bool:
        urls = (
            {}
            if server is None
            else {
                "preview": f"http://127.0.0.1:{server.port}/preview?token={server.token}",
                "about": f"http://127.0.0.1:{server.port}/about",
            }
        )
        try:
            login = for_this_system(paths.log_dir, platform=platform)
        except (VCamSwapError, ImportError) as exc:
            log.info("no start-at-login item in the tray: %s", exc)
            login = None
        items = build_menu(
            controls,
            desktop_opener(urls, platform, server.panel_url if server is not None else None),
            str(config.swap.faces_dir or paths.faces_dir),
            str(config_file),
            login,
        )
        return run_tray(controls, items, stop, platform)

    return run


def run_daemon(
    supervisor: Supervisor,
    status_every_s: float = 30.0,
    foreground: Callable[[threading.Event], bool] | None = None,
) -> None:
    """Run until SIGINT/SIGTERM (or a quit); the signal handler only sets the stop event.
    ``foreground`` (the tray) runs on the main thread; without it the main thread waits."""
    stop = supervisor.stop_event

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
    supervisor.start()
    try:
        if foreground is not None and foreground(stop):
            return
        while not stop.wait(status_every_s):
            status = supervisor.status()
            log.info(
                "%s: in %.1f fps, out %.1f fps, latency p95 %.1f ms, dropped %d",
                status.state,
                status.input_fps,
                status.output_fps,
                status.latency_ms_p95,
                status.dropped,
            )
    finally:
        supervisor.stop()


CONTENT_CARD = N_("Paused: content check")


def content_gate(supervisor: Supervisor, action: str) -> Callable[[ContentVerdict], None]:
    """What a live verdict does. 'pause': a hit turns the swap off and shows the card until the
    user re-enables the swap (DaemonControls lifts the card). 'blank': the card shows while
    the camera is flagged and lifts itself on the first clean check."""

    def on_verdict(verdict: ContentVerdict) -> None:
        blocked = supervisor.health.blocked
        if verdict.flagged and not blocked:
            log.warning(
                "content check: the camera shows %s; %s",
                verdict.describe(),
                "the swap is paused until you re-enable it"
                if action == "pause"
                else "showing a card until it is gone",
            )
            supervisor.health.block(CONTENT_CARD)
            if action == "pause":
                supervisor.state.update(swap_enabled=False)
        elif not verdict.flagged and blocked == CONTENT_CARD and action == "blank":
            log.info("content check: the camera is clean again")
            supervisor.health.block(None)

    return on_verdict


def start_content_monitor(
    config: Config, supervisor: Supervisor, classifier: ContentClassifier | None
) -> LiveContentMonitor | None:
    if classifier is None:
        return None
    check = config.safety.content_check
    monitor = LiveContentMonitor(
        classifier,
        supervisor.last_input,
        content_gate(supervisor, check.action),
        supervisor.stop_event,
        check.live_interval_s,
    )
    monitor.start()
    return monitor
