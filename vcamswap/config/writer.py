"""Change one key in the user's YAML config without losing comments or layout (ruamel.yaml
round trip), written atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from vcamswap.config.loader import parse_config_text, write_text_atomic
from vcamswap.config.render import render_default_yaml


def set_config_value(path: Path, key: tuple[str, ...], value: Any) -> None:
    """Set ``key`` (section path) to ``value`` in ``path``; a missing file starts from the
    commented defaults. The result is validated before it replaces the file."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    text = path.read_text(encoding="utf-8") if path.is_file() else render_default_yaml()
    data = yaml.load(text)
    if data is None:
        data = yaml.load("{}")
    node = data
    for part in key[:-1]:
        if part not in node or node[part] is None:
            node[part] = {}
        node = node[part]
    node[key[-1]] = value
    out = io.StringIO()
    yaml.dump(data, out)
    new_text = out.getvalue()
    parse_config_text(new_text, str(path))
    write_text_atomic(path, new_text)
