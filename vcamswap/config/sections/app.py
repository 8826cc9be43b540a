"""ui, tray, control and logging: the daemon's own surfaces."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vcamswap.config.sections.base import LogLevel, Section

UiLanguage = Literal["auto", "en", "de", "es", "fr", "pt_BR", "zh_CN", "ja"]


class UiConfig(Section):
    """The language of the tray, the control panel, the cards and the messages."""

    language: UiLanguage = Field(
        "auto",
        description=(
            "auto (the OS locale; the control panel follows the browser's language) or one of "
            "en, de, es, fr, pt_BR, zh_CN, ja."
        ),
    )


class TrayConfig(Section):
    """The system tray icon."""

    enabled: bool = Field(
        True, description="Show a tray icon (falls back to none if the desktop has no tray)."
    )


class ControlConfig(Section):
    """The loopback control API used by `vcamswap ctl`, the tray and the preview page."""

    enabled: bool = Field(True, description="Serve the control API on 127.0.0.1.")
    port: int = Field(
        8765, ge=0, le=65535, description="TCP port on 127.0.0.1 (0 picks a free port)."
    )
    preview_fps: float = Field(
        10.0, gt=0, le=30, description="Frame rate of the browser preview stream."
    )


class LoggingConfig(Section):
    """Log output."""

    level: LogLevel = Field(
        "INFO", description="Log level; `-v` on the command line raises it to DEBUG."
    )
    file: bool = Field(True, description="Also write a rotating log file in the user log folder.")
    max_bytes: int = Field(1_000_000, ge=10_000, description="Size at which the log file rotates.")
    backups: int = Field(3, ge=0, le=20, description="Rotated log files kept.")
