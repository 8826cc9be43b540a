"""The configuration schema: pydantic v2 models, unknown keys rejected, every field described.

The YAML file, `config/default.yaml` (comments included) and `config/schema.json` are all generated
from these models, so the description here is the one documentation of each setting.
"""

from __future__ import annotations

from pydantic import Field

from vcamswap.config.sections.app import ControlConfig, LoggingConfig, TrayConfig, UiConfig
from vcamswap.config.sections.base import Corner, Engine, LogLevel, ModelRole, OnFaceLost, Section
from vcamswap.config.sections.camera import CameraConfig, OutputConfig
from vcamswap.config.sections.models import ModelOverride, ModelsConfig, RemoteConfig
from vcamswap.config.sections.safety import ContentCheckConfig, LabelConfig, SafetyConfig
from vcamswap.config.sections.swap import GovernorConfig, SwapConfig

__all__ = [
    "CameraConfig",
    "Config",
    "ContentCheckConfig",
    "ControlConfig",
    "Corner",
    "Engine",
    "GovernorConfig",
    "LabelConfig",
    "LogLevel",
    "LoggingConfig",
    "ModelOverride",
    "ModelRole",
    "ModelsConfig",
    "OnFaceLost",
    "OutputConfig",
    "RemoteConfig",
    "SafetyConfig",
    "Section",
    "SwapConfig",
    "TrayConfig",
    "UiConfig",
]


class Config(Section):
    """VCamSwap settings."""

    camera: CameraConfig = Field(default_factory=CameraConfig, description="Physical webcam.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="Output.")
    swap: SwapConfig = Field(default_factory=SwapConfig, description="Face swap.")
    governor: GovernorConfig = Field(
        default_factory=GovernorConfig, description="Quality governor."
    )
    models: ModelsConfig = Field(default_factory=ModelsConfig, description="Model files.")
    ui: UiConfig = Field(default_factory=UiConfig, description="Interface language.")
    tray: TrayConfig = Field(default_factory=TrayConfig, description="Tray icon.")
    control: ControlConfig = Field(default_factory=ControlConfig, description="Control API.")
    safety: SafetyConfig = Field(default_factory=SafetyConfig, description="Safety.")
    logging: LoggingConfig = Field(default_factory=LoggingConfig, description="Logging.")
