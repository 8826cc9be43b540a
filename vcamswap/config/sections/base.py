"""What every config section shares: unknown keys rejected, assignments validated."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Engine = Literal["auto", "neural", "lite"]
OnFaceLost = Literal["passthrough", "blur", "freeze", "placeholder"]
MaskRegion = Literal["skin", "brows", "eyes", "glasses", "ears", "nose", "mouth", "lips"]
Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
ModelRole = Literal["detector", "embedder", "swapper", "enhancer"]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


def yaml_switch(value: object) -> object:
    """YAML 1.1 reads a bare on/off as a boolean; for 'on'/'off' choices take what was meant."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return value
