"""App: the daemon's composition root. It owns the order things start and stop in; the CLI
parses the command line and hands it a RunOptions.

Start: the single-instance lock (before anything a second daemon could disturb), consent,
logging, the pipeline (output, inference, capture threads), the config watcher, the on-demand
controller, the content monitor, the control server, the tray. Stop, in reverse: the tray
returns, the pipeline stops and joins its threads, the content monitor and the control server
are closed and joined, the lock is released."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from vcamswap.config import AppPaths, Config
from vcamswap.config.instance import InstanceLock
from vcamswap.config.overrides import Overrides
from vcamswap.daemon.builders import (
    RunSpec,
    build_controls,
    build_supervisor,
    run_daemon,
    start_content_monitor,
    start_control,
    start_on_demand,
    tray_foreground,
)
from vcamswap.daemon.controls import DaemonControls
from vcamswap.daemon.reload import ConfigWatcher, Reloader
from vcamswap.platforms import Platform

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What `vcamswap run` was asked for on the command line."""

    config_file: Path | None = None
    camera: int | str | None = None
    output: str | None = None
    face: str | None = None
    engine: str | None = None
    remote: str | None = None
    camera_mode: str | None = None
    at_login: bool = False
    tray: bool = True
    seconds: float | None = None
    verbose: bool = False
    accept_consent: bool = False


class App:
    def __init__(
        self, options: RunOptions, paths: AppPaths, config: Config, platform: Platform | None = None
    ) -> None:
        self._options = options
        self._paths = paths
        self._config = config
        self._platform = platform
        self._config_file = options.config_file or paths.config_file
        self.controls: DaemonControls | None = None
        """What the tray and the control API drive, once the daemon is built (tests use it)."""

    def run(self) -> int:
        """Run until a signal, `ctl quit`, the tray's Quit or ``seconds``; returns the exit
        code. AlreadyRunningError when another daemon of this user holds the lock."""
        with InstanceLock(self._paths.lock_file):
            return self._run_locked()

    def _prepare(self) -> tuple[Config, Config, Overrides]:
        """Consent and logging, then the settings: (running config, the file's own, the
        command line's overrides)."""
        from vcamswap.log import setup_logging
        from vcamswap.safety.consent import ensure_consent

        options, config = self._options, self._config
        if ensure_consent(
            config.safety.consent_accepted, self._config_file, flag=options.accept_consent
        ):
            log.info("consent recorded in %s (safety.consent_accepted)", self._config_file)
        level = "DEBUG" if options.verbose else config.logging.level
        setup_logging(
            level,
            self._paths.log_dir / "vcamswap.log" if config.logging.file else None,
            config.logging.max_bytes,
            config.logging.backups,
        )
        overrides = Overrides(options.engine, options.remote, options.camera_mode, options.at_login)
        file_config = overrides(config)
        running = file_config
        if options.face:
            running = running.model_copy(
                update={"swap": running.swap.model_copy(update={"face": options.face})}
            )
        return running, file_config, overrides

    def _run_locked(self) -> int:
        from vcamswap.processors.engines import content_classifier

        options, paths, platform = self._options, self._paths, self._platform
        config, file_config, overrides = self._prepare()
        camera = options.camera
        if isinstance(camera, str) and camera.isdigit():
            camera = int(camera)
        spec = RunSpec(camera=camera, output=options.output)
        content = content_classifier(config, paths)
        supervisor = build_supervisor(config, paths, spec, content=content, platform=platform)
        has_file = self._config_file.is_file()
        reloader = (
            Reloader(self._config_file, file_config, paths, supervisor, spec, overrides, content)
            if has_file
            else None
        )
        controls = build_controls(
            config, paths, supervisor, self._config_file if has_file else None, reloader
        )
        self.controls = controls
        watcher = ConfigWatcher(reloader, supervisor.stop_event) if reloader else None
        if watcher is not None:
            watcher.start()
        start_on_demand(config, supervisor, supervisor.sink)
        monitor = start_content_monitor(config, supervisor, content)
        control = start_control(config, paths, controls, platform, content)
        foreground = (
            tray_foreground(config, paths, controls, control, self._config_file, platform)
            if config.tray.enabled and options.tray
            else None
        )
        timer = None
        if options.seconds is not None:
            timer = threading.Timer(options.seconds, supervisor.stop_event.set)
            timer.daemon = True
            timer.start()
        try:
            run_daemon(supervisor, foreground=foreground)
        finally:
            if timer is not None:
                timer.cancel()
            if monitor is not None:
                monitor.close()
            if control is not None:
                control.stop()
            if watcher is not None:
                watcher.join()
        status = supervisor.status()
        log.info(
            "stopped: %d frames in, %d out, %d dropped",
            status.frames_in,
            status.frames_out,
            status.dropped,
        )
        return 0
