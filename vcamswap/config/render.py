"""Generate the commented default YAML and the JSON schema from the config models."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from vcamswap.config.models import Config

HEADER = """\
# VCamSwap configuration.
# Every key is optional: a missing key takes the default shown here.
# Check your edits with:  vcamswap check-config PATH
# Generated from vcamswap/config/models.py; the JSON schema is config/schema.json.
"""


def _scalar(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1000)
    text = text.strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _wrap(text: str, indent: str, width: int = 96) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(indent) + 2 + len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return [f"{indent}# {item}" for item in lines]


def _render_model(model: BaseModel, indent: str) -> list[str]:
    out: list[str] = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            if out:
                out.append("")
            out.extend(_wrap(type(value).__doc__ or field.description or name, indent))
            out.append(f"{indent}{name}:")
            out.extend(_render_model(value, indent + "  "))
            continue
        out.extend(_wrap(field.description or name, indent))
        out.append(f"{indent}{name}: {_scalar(value)}")
    return out


def render_default_yaml() -> str:
    """The default configuration as YAML, each key preceded by its description."""
    return HEADER + "\n" + "\n".join(_render_model(Config(), "")) + "\n"


def render_schema() -> str:
    """The JSON schema of the configuration file."""
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "VCamSwap configuration"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_generated(folder: Path) -> None:
    """Write ``default.yaml`` and ``schema.json`` into ``folder`` (the repository's config/)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "default.yaml").write_text(render_default_yaml(), encoding="utf-8")
    (folder / "schema.json").write_text(render_schema(), encoding="utf-8")


if __name__ == "__main__":
    write_generated(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("config"))
