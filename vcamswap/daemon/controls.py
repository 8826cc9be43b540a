"""DaemonControls: the Controls the control API and the tray drive, over a running Supervisor.
State lives in RuntimeState and Status only; nothing is stored twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vcamswap.config import load_config
from vcamswap.config.writer import set_config_value
from vcamswap.devices.sinks import shown_camera_name
from vcamswap.errors import ConfigError, VCamSwapError
from vcamswap.i18n import _
from vcamswap.pipeline.supervisor import Supervisor
from vcamswap.types import BgrImage

log = logging.getLogger(__name__)


class DaemonControls:
    def __init__(  # noqa: PLR0913 - injected deps
        self,
        supervisor: Supervisor,
        resolve_face: Callable[[str | None], Path],
        face_names: Callable[[], list[str]],
        config_file: Path | None,
        engine: str,
        prefetch: Callable[[str], None] | None = None,
        reloader: Callable[[], list[str]] | None = None,
        problems: Callable[[], list[str]] | None = None,
        camera_mode: str = "always",
        remote: str | None = None,
    ) -> None:
        self._unsaved: str | None = None
        self._camera_mode = camera_mode
        self._remote = remote
        self._prefetch = prefetch
        self._reloader = reloader
        self._problems = problems
        self._supervisor = supervisor
        self._resolve = resolve_face
        self._face_names = face_names
        self._config_file = config_file
        self._engine = engine

    def status(self) -> dict[str, Any]:
        toggles = self._supervisor.state.get()
        status = self._supervisor.status()
        processor = self._supervisor.processor
        return {
            **status.to_dict(),
            "engine": getattr(processor, "engine", "") or self._engine,
            "engine_reason": getattr(processor, "engine_reason", "")
            or f"swap.engine: {self._engine}",
            "engine_running": self._supervisor.engine_failed is None,
            "virtual_camera": shown_camera_name(self._supervisor.sink),
            "unsaved": self._unsaved,
            "camera_mode": self._camera_mode,
            "camera_open": self._supervisor.health.camera_state == "ok",
            "latency_ms": status.latency_ms_p95,
            "blocked": self._supervisor.health.blocked,
            "remote": self._remote,
            "swap_enabled": toggles.swap_enabled,
            "face": toggles.face,
            "enhancer": toggles.enhancer,
            "mouth_mask": toggles.mouth_mask,
            "faces": self._face_names(),
            "config_problems": self._problems() if self._problems else [],
        }

    @property
    def config_file(self) -> Path | None:
        """The file settings are saved to (None: started without one)."""
        return self._config_file

    @property
    def supervisor(self) -> Supervisor:
        return self._supervisor

    def _persist(self, key: str, value: object, section: str = "swap") -> None:
        """Write a tray/ctl change back to the config file, keeping the user's comments."""
        if self._config_file is None:
            return
        try:
            set_config_value(self._config_file, (section, key), value)
        except Exception as exc:  # a broken file (duplicate keys, bad YAML) must not undo it
            problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self._unsaved = (
                f"{section}.{key} applied but not saved to {self._config_file} "
                f"({problem}); fix the file (`vcamswap check-config`)"
            )
            log.warning("%s", self._unsaved)
            return
        self._unsaved = None

    def set_governor(self, mode: str, level: int = 0) -> None:
        levels = self._supervisor.governor.view().levels
        if mode not in ("auto", "off", "pinned"):
            raise VCamSwapError(
                _("unknown governor mode {mode}: use auto, off or a level").format(mode=repr(mode))
            )
        if mode == "pinned" and not 0 <= level < len(levels):
            raise VCamSwapError(
                _("no quality level {level}: this engine has 0..{top} ({steps})").format(
                    level=level,
                    top=len(levels) - 1,
                    steps=", ".join(f"{i} {n}" for i, n in enumerate(levels)),
                )
            )
        self._supervisor.governor.set_mode(mode, level)  # type: ignore[arg-type]
        self._persist("mode", mode, "governor")
        if mode == "pinned":
            self._persist("level", level, "governor")
        log.info("quality governor: %s%s", mode, f" at level {level}" if mode == "pinned" else "")

    def set_swap_enabled(self, on: bool) -> None:
        # Enabling also opens a paused camera (camera.mode: manual).
        if on:
            self._supervisor.state.update(swap_enabled=True, paused=False)
            if self._supervisor.health.blocked:
                log.info("the swap was re-enabled: the content-check pause is lifted")
                self._supervisor.health.block(None)
        else:
            self._supervisor.state.update(swap_enabled=False)
        self._persist("enabled", on)
        log.info("swap %s", "on" if on else "off")

    def set_source_face(self, name: str) -> None:
        self._resolve(name)  # FaceError with the list of faces when unknown
        if self._prefetch is not None:
            self._prefetch(name)  # the frame path keeps the old face until this is ready
        self._supervisor.state.update(face=name)
        self._persist("face", name)
        log.info("source face: %s", name)

    def set_enhancer(self, on: bool) -> None:
        self._supervisor.state.update(enhancer=on)
        self._persist("enhancer", on)

    def set_mouth_mask(self, on: bool) -> None:
        self._supervisor.state.update(mouth_mask=on)
        self._persist("mouth_mask", on)

    def reload(self) -> list[str]:
        if self._reloader is not None:
            return self._reloader()
        if self._config_file is None:
            return ["no config file to reload (the daemon was started with defaults)"]
        try:
            config = load_config(self._config_file)
        except ConfigError as exc:
            log.error(
                "config reload rejected; the running config stays:\n%s", "\n".join(exc.problems)
            )
            return exc.problems
        self._supervisor.state.update(
            swap_enabled=config.swap.enabled,
            face=config.swap.face,
            enhancer=config.swap.enhancer,
            mouth_mask=config.swap.mouth_mask,
        )
        log.info("config reloaded from %s", self._config_file)
        return []

    def quit(self) -> None:
        self._supervisor.stop_event.set()

    def preview_frame(self) -> BgrImage | None:
        return self._supervisor.last_output()
