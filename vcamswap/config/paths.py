"""Where VCamSwap keeps its files. Built once in the CLI and passed down; nothing reads globals."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "vcamswap"


@dataclass(frozen=True, slots=True)
class AppPaths:
    """The user folders: config file, data (faces, models), cache and logs."""

    config_file: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path
    runtime_dir: Path | None = None
    """Per-session files (lock, control token and port): the platform's user runtime folder;
    None puts them under the cache folder."""

    @property
    def faces_dir(self) -> Path:
        return self.data_dir / "faces"

    @property
    def run_dir(self) -> Path:
        return self.runtime_dir if self.runtime_dir is not None else self.cache_dir / "run"

    @property
    def token_file(self) -> Path:
        """The control API's token (mode 0600), in the runtime folder."""
        return self.run_dir / "control.token"

    @property
    def port_file(self) -> Path:
        """The control API's port, written by the running daemon."""
        return self.run_dir / "control.port"

    @property
    def lock_file(self) -> Path:
        """The single-instance lock of the daemon."""
        return self.run_dir / "daemon.lock"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @classmethod
    def under(cls, root: Path) -> AppPaths:
        """All folders below one root (tests, portable installs)."""
        return cls(root / "config.yaml", root / "data", root / "cache", root / "logs", root / "run")

    @classmethod
    def for_user(cls) -> AppPaths:
        """The platform's user folders; ``VCAMSWAP_HOME`` puts everything below one folder."""
        home = os.environ.get("VCAMSWAP_HOME")
        if home:
            return cls.under(Path(home))
        import warnings

        import platformdirs

        with warnings.catch_warnings():  # no XDG_RUNTIME_DIR: platformdirs picks a /tmp folder
            warnings.simplefilter("ignore")
            runtime = platformdirs.user_runtime_path(APP_NAME)
        return cls(
            config_file=platformdirs.user_config_path(APP_NAME) / "config.yaml",
            data_dir=platformdirs.user_data_path(APP_NAME),
            cache_dir=platformdirs.user_cache_path(APP_NAME),
            log_dir=platformdirs.user_log_path(APP_NAME),
            runtime_dir=runtime,
        )
