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

    @property
    def faces_dir(self) -> Path:
        return self.data_dir / "faces"

    @property
    def token_file(self) -> Path:
        """The control API's token (mode 0600), next to the config file."""
        return self.config_file.parent / "control.token"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @classmethod
    def under(cls, root: Path) -> AppPaths:
        """All folders below one root (tests, portable installs)."""
        return cls(root / "config.yaml", root / "data", root / "cache", root / "logs")

    @classmethod
    def for_user(cls) -> AppPaths:
        """The platform's user folders; ``VCAMSWAP_HOME`` puts everything below one folder."""
        home = os.environ.get("VCAMSWAP_HOME")
        if home:
            return cls.under(Path(home))
        import platformdirs

        return cls(
            config_file=platformdirs.user_config_path(APP_NAME) / "config.yaml",
            data_dir=platformdirs.user_data_path(APP_NAME),
            cache_dir=platformdirs.user_cache_path(APP_NAME),
            log_dir=platformdirs.user_log_path(APP_NAME),
        )
