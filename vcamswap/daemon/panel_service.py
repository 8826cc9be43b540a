"""PanelService: what the control panel asks of the running daemon (control.panel.PanelBackend).
Faces go through the same FaceLibrary checks as `vcamswap faces add`; settings go through the
same path as the tray and `ctl`: the live toggles through DaemonControls, everything else into
the config file (validated, comments kept) and then the reload path that applies it."""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import cv2

from vcamswap.config import Config, load_config
from vcamswap.config.loader import write_text_atomic
from vcamswap.config.writer import set_config_value
from vcamswap.control.panel import PANEL_SETTINGS
from vcamswap.daemon.controls import DaemonControls
from vcamswap.errors import ConfigError, VCamSwapError
from vcamswap.facelib.library import FaceLibrary
from vcamswap.i18n import _
from vcamswap.inference.catalog import CATALOG
from vcamswap.types import BgrImage

log = logging.getLogger(__name__)
THUMB_SIDE = 160
LIVE = {
    "swap.enabled": ("set_swap_enabled", "swap_enabled"),
    "swap.enhancer": ("set_enhancer", "enhancer"),
    "swap.mouth_mask": ("set_mouth_mask", "mouth_mask"),
}
"""Settings the tray also toggles (the Controls setter, the status key): applied to the
running state at once and saved."""


def _get(config: Config, key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        node = getattr(node, part)
    return node


class PanelService:
    def __init__(
        self,
        controls: DaemonControls,
        library: Callable[[], FaceLibrary],
        config_file: Path | None,
        cameras: Callable[[], list[tuple[str, str]]],
        checks: Callable[[], Iterable[dict[str, Any]]],
        model_folder: Path,
    ) -> None:
        self._controls = controls
        self._library = library
        self._config_file = config_file
        self._cameras = cameras
        self._checks = checks
        self._model_folder = model_folder
        self._saving = threading.Lock()
        """One setting at a time: each is a read-modify-write of the config file."""

    def _config(self) -> Config:
        if self._config_file is None or not self._config_file.is_file():
            return Config()
        try:
            return load_config(self._config_file)
        except ConfigError:
            return Config()

    # -- faces ------------------------------------------------------------------------------
    def faces(self) -> list[dict[str, Any]]:
        active = self._controls.status().get("face")
        entries = self._library().entries()
        first = entries[0].name if entries else None
        return [
            {
                "name": e.name,
                "sha256": e.sha256[:12],
                "active": e.name == (active or first),
            }
            for e in entries
        ]

    def face_thumbnail(self, name: str) -> bytes | None:
        for entry in self._library().entries():
            if entry.name == name:
                image = cv2.imread(str(entry.path))
                if image is None:
                    return None
                scale = THUMB_SIDE / max(image.shape[:2])
                small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])
                return jpeg.tobytes() if ok else None
        return None

    def add_face(self, filename: str, data: bytes, name: str | None) -> dict[str, Any]:
        if not self._controls.status().get("face"):
            # No face chosen: the daemon shows the library's first, and a new photo that
            # sorts first would replace it on air. Keep the one showing.
            entries = self._library().entries()
            if entries:
                self._controls.set_source_face(entries[0].name)
        base = Path(filename.replace("\\", "/")).name or "photo.jpg"
        stem, suffix = Path(base).stem or "photo", Path(base).suffix.lower() or ".jpg"
        with tempfile.TemporaryDirectory(prefix="vcamswap-upload-") as folder:
            path = Path(folder) / f"{stem[:64]}{suffix[:8]}"
            path.write_bytes(data)
            try:
                entry = self._library().add(path, name)
            except VCamSwapError as exc:  # the temporary path means nothing to the user
                raise VCamSwapError(str(exc).replace(str(path), base)) from None
        log.info("panel: added face %r", entry.name)
        return {"name": entry.name, "notes": list(entry.notes)}

    def rename_face(self, old: str, new: str) -> None:
        library = self._library()
        if (self._controls.status().get("face") or "").lower() != old.lower():
            renamed = library.rename(old, new)
        else:  # the face on air: the new name exists before the switch, the old one after
            renamed = library.rename(old, new, keep_old=True)
            self._controls.set_source_face(renamed)
            library.forget(old)
        log.info("panel: renamed face %r to %r", old, renamed)

    def remove_face(self, name: str) -> None:
        if (self._controls.status().get("face") or "").lower() == name.lower():
            raise VCamSwapError(
                _("{name} is the face in use: choose another face first").format(name=name)
            )
        self._library().remove(name)
        log.info("panel: removed face %r", name)

    # -- settings ---------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        config = self._config()
        status = self._controls.status()
        values = {s.key: _get(config, s.key) for s in PANEL_SETTINGS}
        values.update({key: bool(status.get(field)) for key, (_s, field) in LIVE.items()})
        values["governor.mode"] = (status.get("governor") or {}).get(
            "mode", values["governor.mode"]
        )
        values["camera.rotate"] = str(values["camera.rotate"])
        values["camera.device"] = str(values["camera.device"])
        return {
            "settings": [
                {
                    "key": s.key,
                    "kind": s.kind,
                    "choices": list(s.choices),
                    "low": s.low,
                    "high": s.high,
                    "step": s.step,
                }
                for s in PANEL_SETTINGS
            ],
            "values": values,
            "cameras": [{"value": v, "label": n} for v, n in self._cameras()],
            "engine_reason": status.get("engine_reason"),
        }

    def set_setting(self, key: str, value: Any) -> list[str]:
        with self._saving:
            return self._set(key, value)

    def _set(self, key: str, value: Any) -> list[str]:
        if key in LIVE:
            if not isinstance(value, bool):
                raise VCamSwapError(_("{key} is on or off").format(key=key))
            getattr(self._controls, LIVE[key][0])(value)
            return []
        if key == "governor.mode":
            level = (self._controls.status().get("governor") or {}).get("level", 0)
            self._controls.set_governor(str(value), int(level))
            return []
        if self._config_file is None:
            return [
                _(
                    "the daemon was started without a config file, so {key} cannot be saved; "
                    "create one with `vcamswap check-config --write-defaults FILE` and "
                    "restart with --config FILE"
                ).format(key=key)
            ]
        if key == "camera.device" and isinstance(value, str) and value.isdigit():
            value = int(value)
        before = self._config_file.read_text(encoding="utf-8")
        try:
            set_config_value(self._config_file, tuple(key.split(".")), value)
        except ConfigError as exc:
            return exc.problems or [str(exc)]
        problems = self._controls.reload()
        if problems:  # valid YAML the daemon cannot run (a neural engine without its models)
            write_text_atomic(self._config_file, before)
            self._controls.reload()
            log.warning(
                "panel: %s = %r not applied, the file is as it was: %s", key, value, problems
            )
            return [*problems, _("{key} was not changed").format(key=key)]
        log.info("panel: %s = %r", key, value)
        return []

    def language(self) -> str:
        """ui.language as the file says now (the panel follows a change at once)."""
        return self._config().ui.language

    # -- views and checks -------------------------------------------------------------------
    def camera_frame(self) -> BgrImage | None:
        return self._controls.supervisor.last_input()

    def checks(self) -> list[dict[str, Any]]:
        return list(self._checks())

    def models(self) -> list[dict[str, Any]]:
        return [
            {
                "name": spec.name,
                "present": (self._model_folder / spec.file).is_file(),
                "licence": spec.licence,
            }
            for spec in CATALOG.values()
        ]
