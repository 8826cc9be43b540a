"""Command-line settings applied on top of the config file, at start and after every reload,
so a reload never undoes them."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from vcamswap.config.models import Config
from vcamswap.errors import ConfigError


def with_remote(config: Config, url: str) -> Config:
    """--remote URL: models.remote.url set (validated like the file's value)."""
    from pydantic import ValidationError

    try:
        remote = config.models.remote.model_validate(
            {**config.models.remote.model_dump(), "url": url}
        )
    except ValidationError as exc:
        raise ConfigError(f"--remote {url!r}: {exc.errors()[0]['msg']}") from exc
    return config.model_copy(update={"models": config.models.model_copy(update={"remote": remote})})


def login_mode(setting: str, platform: str = sys.platform) -> str:
    """camera.login_mode: 'auto' is on-demand where a reader signal exists (Linux), else
    manual; anything else is used as given."""
    if setting != "auto":
        return setting
    return "on-demand" if platform.startswith("linux") else "manual"


@dataclass(frozen=True, slots=True)
class Overrides:
    """--engine, --remote and --camera-mode (or the login mode with --at-login). --face is not
    here: it is a starting choice, which the tray and ctl may change later."""

    engine: str | None = None
    remote: str | None = None
    camera_mode: str | None = None
    at_login: bool = False

    def __call__(self, loaded: Config) -> Config:
        if self.engine:
            loaded = loaded.model_copy(
                update={"swap": loaded.swap.model_copy(update={"engine": self.engine})}
            )
        if self.remote:
            loaded = with_remote(loaded, self.remote)
        mode = self.camera_mode or (login_mode(loaded.camera.login_mode) if self.at_login else None)
        if mode:
            loaded = loaded.model_copy(
                update={"camera": loaded.camera.model_copy(update={"mode": mode})}
            )
        return loaded
