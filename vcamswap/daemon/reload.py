"""Config hot reload: watch the config file, apply a valid edit to the running daemon
(restarting only the worker whose settings changed), reject an invalid one with the same
`FILE:LINE: key: message` report as check-config while the last good config keeps running."""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

from vcamswap.config import AppPaths, Config, load_config
from vcamswap.daemon.builders import RunSpec, build_policy, build_sink, build_source
from vcamswap.errors import VCamSwapError
from vcamswap.pipeline.supervisor import Supervisor
from vcamswap.processors.engines import build_swap_processor
from vcamswap.safety.content import ContentClassifier

log = logging.getLogger(__name__)
# swap.KEY in the file -> the runtime toggle it sets.
TOGGLES = {
    "enabled": "swap_enabled",
    "face": "face",
    "enhancer": "enhancer",
    "mouth_mask": "mouth_mask",
}


def _capture_fields(config: Config) -> dict[str, object]:
    """The camera settings the capture worker uses (mode and grace belong to the daemon)."""
    return config.camera.model_dump(exclude={"mode", "login_mode", "grace_s"})


class Reloader:
    """Applies new configs to a running Supervisor; remembers the last good one."""

    def __init__(
        self,
        path: Path,
        config: Config,
        paths: AppPaths,
        supervisor: Supervisor,
        spec: RunSpec | None = None,
        overrides: Callable[[Config], Config] | None = None,
        content: ContentClassifier | None = None,
    ) -> None:
        """``config`` is what the file said at start, with ``overrides`` applied (not --face):
        each reload is compared with the previous file, never with the running state, so the
        live toggles (swap on/off, face, enhancer, mouth mask) change only where the file's own
        value changed. ``overrides`` re-applies the command line's settings (--engine, --remote,
        --camera-mode) to each reloaded file, so a reload never undoes them. ``content``
        screens the faces of rebuilt processors (content-check settings apply at the next
        start)."""
        self._overrides = overrides or (lambda config: config)
        self._content = content
        self.path = path
        self.config = config
        self.problems: list[str] = []
        self._paths = paths
        self._supervisor = supervisor
        self._spec = spec or RunSpec()
        self._lock = threading.Lock()

    def reload(self) -> list[str]:
        """Re-read the file and apply it; the problems found (empty when applied)."""
        with self._lock:
            try:
                if self.path.is_file() and not self.path.read_bytes().strip():
                    log.warning(
                        "%s is empty (an editor saving?); the running config stays", self.path
                    )
                    self.problems = [
                        f"{self.path}: the file is empty; the running config "
                        "stays (save it again, or `vcamswap check-config "
                        f"--write-defaults NEW.yaml` for the defaults)"
                    ]
                    return self.problems
                new = self._overrides(load_config(self.path))
                self._apply(new)
            except VCamSwapError as exc:
                problems = getattr(exc, "problems", None) or [f"{self.path}: {exc}"]
                log.error(
                    "config change rejected; the running config stays:\n%s", "\n".join(problems)
                )
                self.problems = list(problems)
                return self.problems
            self.problems = []
            return []

    def _apply(self, new: Config) -> None:
        old, supervisor = self.config, self._supervisor
        live = {*TOGGLES, "on_face_lost"}  # changed without a rebuild
        processor_fields = {k: v for k, v in new.swap.model_dump().items() if k not in live}
        old_fields = {k: v for k, v in old.swap.model_dump().items() if k not in live}
        rebuild = (
            processor_fields != old_fields
            or new.models != old.models
            or new.safety.label != old.safety.label
            or supervisor.engine_failed is not None
        )
        processor = (
            build_swap_processor(new, self._paths, supervisor.state, content=self._content)
            if rebuild
            else None
        )
        if new.safety.content_check != old.safety.content_check:
            log.warning("safety.content_check changes apply at the next start")
        if new.governor != old.governor:
            supervisor.governor.set_mode(new.governor.mode, new.governor.level)
            log.info("quality governor: %s", new.governor.mode)
        if new.camera.mode != old.camera.mode:
            log.warning("camera.mode applies at the next start (now: %s)", old.camera.mode)
        if _capture_fields(new) != _capture_fields(old) and self._spec.camera is None:
            supervisor.replace_source(build_source(new.camera.device, new.camera))
            log.info("camera settings changed: the capture worker reopens the camera")
        if new.output != old.output and self._spec.output is None:
            size = (new.output.width or new.camera.width, new.output.height or new.camera.height)
            supervisor.replace_sink(build_sink(new.output.target, new.output, size))
            log.info("output settings changed: the output worker reopens the output")
        if processor is not None:
            supervisor.replace_processor(processor)
            log.info("swap settings changed: the processor is rebuilt between two frames")
        if new.swap.on_face_lost != old.swap.on_face_lost:
            supervisor.replace_policy(build_policy(new))
            log.info("privacy guard: %s", new.swap.on_face_lost)
        changed = {
            toggle: getattr(new.swap, key)
            for key, toggle in TOGGLES.items()
            if getattr(new.swap, key) != getattr(old.swap, key)
        }
        if changed:
            supervisor.state.update(**changed)
            log.info("from the file: %s", ", ".join(f"{k}={v}" for k, v in changed.items()))
        if new.logging.level != old.logging.level:
            logging.getLogger().setLevel(new.logging.level)
        if new.control != old.control or new.tray != old.tray:
            log.warning("control and tray settings apply at the next start")
        self.config = new
        log.info("config reloaded from %s", self.path)


class ConfigWatcher:
    """Polls the file's size, mtime and CRC (no extra dependency, every OS) and reloads
    once it has been stable for ``settle`` seconds, so a burst of saves reloads once."""

    def __init__(
        self, reloader: Reloader, stop: threading.Event, interval: float = 0.5, settle: float = 0.3
    ) -> None:
        self._reloader = reloader
        self._stop = stop
        self._interval = interval
        self._settle = settle
        self._thread: threading.Thread | None = None

    def _signature(self) -> tuple[int, int, int] | None:
        # The content's CRC too: two saves within one mtime tick can keep size and mtime.
        try:
            stat = self._reloader.path.stat()
            crc = zlib.crc32(self._reloader.path.read_bytes())
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size, crc

    def start(self) -> None:
        # The baseline is taken now, not in the thread: an edit made right after start()
        # returns must count as a change.
        baseline = self._signature()
        self._thread = threading.Thread(
            target=self._run, args=(baseline,), name="vcamswap-config", daemon=True
        )
        self._thread.start()

    def join(self, timeout: float = 2.0) -> None:
        """Wait for the watcher to end (after the stop event); a reload in progress finishes."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, seen: tuple[int, int, int] | None) -> None:
        while not self._stop.wait(self._interval):
            current = self._signature()
            if current == seen or current is None:
                continue
            while not self._stop.wait(self._settle):
                settled = self._signature()
                if settled == current:
                    break
                current = settled
            seen = current
            try:
                self._reloader.reload()
            except Exception:
                log.exception("config reload failed; the running config stays")
