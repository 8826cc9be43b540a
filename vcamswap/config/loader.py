"""Read, validate and write the YAML config; map every problem back to its line in the file."""

from __future__ import annotations

import difflib
import os
import tempfile
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vcamswap.config.models import Config
from vcamswap.config.render import render_default_yaml
from vcamswap.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a config file, printed as ``FILE:LINE: key.path: message``."""

    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key}: {self.message}"


def _node_at(root: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, int]:
    """The deepest YAML node along ``loc`` and how many loc parts it matched."""
    node, depth = root, 0
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if str(key_node.value) == str(part):
                    child = value_node
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node, depth = child, depth + 1
    return node, depth


def _key_node(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The node of the *key* named by the last part of ``loc`` (for unknown-key errors)."""
    parent, depth = _node_at(root, loc[:-1])
    if depth != len(loc) - 1 or not isinstance(parent, yaml.MappingNode):
        return None
    for key_node, _ in parent.value:
        if str(key_node.value) == str(loc[-1]):
            found: yaml.Node = key_node
            return found
    return None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The config model class that owns the keys at ``loc`` (for did-you-mean suggestions)."""
    model: Any = Config
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        model = _unwrap(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(annotation) if a is not type(None)]
        return models[0] if len(models) == 1 else None
    return annotation


def _suggest(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    matches = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    if matches:
        return f"unknown key; did you mean '{matches[0]}'?"
    return "unknown key; valid keys here: " + ", ".join(model.model_fields)


def _problems_from_validation(
    error: ValidationError, root: yaml.Node | None, file: str
) -> list[Problem]:
    problems: list[Problem] = []
    merged: dict[tuple[int, str], list[str]] = {}
    for item in error.errors():
        loc = tuple(item["loc"])
        node, depth = _node_at(root, loc)
        if item["type"] == "extra_forbidden":
            key_node = _key_node(root, loc)
            node = key_node or node
            message = _suggest(loc)
            key_path = ".".join(str(p) for p in loc)
        else:
            # Union branches (e.g. int | str) add the branch name to loc: show the real key path.
            key_path = ".".join(str(p) for p in loc[: max(depth, 1)]) if depth else "(top)"
            message = item["msg"]
            if "input" in item and not isinstance(item["input"], dict | list):
                message += f" (got {item['input']!r})"
        line = node.start_mark.line + 1 if node is not None else 1
        key = (line, key_path)
        if key in merged:
            if message not in merged[key]:
                merged[key].append(message)
        else:
            merged[key] = [message]
    for (line, key_path), messages in sorted(merged.items()):
        problems.append(Problem(file, line, key_path, "; or ".join(messages)))
    return problems


MAX_DEPTH = 32
"""Nesting deeper than this is refused: the config is a few levels deep, and thousands of
``[`` would end in a RecursionError in the (recursive) YAML composer."""


class _TooDeepError(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _flow_depth_line(text: str) -> int | None:
    """The line where ``[``/``{`` nesting (outside quotes and comments) first passes
    MAX_DEPTH, found in one pass over the characters: YAML's scanner is quadratic on long
    runs of open brackets, so they are refused before it runs."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth, line, quote, comment, previous = 0, 1, "", False, "\n"
    for char in text:
        if char == "\n":
            line, comment = line + 1, False
        elif comment:
            pass
        elif quote:
            if char == quote:
                quote = ""
        elif char in "'\"" and depth:
            quote = char
        elif char == "#" and previous in " \t\n":
            comment = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif char in "]}":
            depth = max(0, depth - 1)
        previous = char
    return None


class _DepthLimitedLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses nodes nested deeper than MAX_DEPTH (block style:
    indentation), before Python's recursion limit is near."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeepError(self.peek_event().start_mark.line + 1)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _compose_and_construct(text: str, file: str) -> tuple[yaml.Node | None, Any]:
    """One parse: the node tree (for lines) and the data. ConfigError when too deep."""
    too_deep = _flow_depth_line(text)
    loader = _DepthLimitedLoader(text)
    try:
        if too_deep is not None:
            raise _TooDeepError(too_deep)
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except _TooDeepError as exc:
        problem = f"{file}:{exc.line}: (yaml): nested more than {MAX_DEPTH} levels deep"
        raise ConfigError(f"{file}: nested too deeply", [problem]) from None
    finally:
        loader.dispose()
    return root, data


def _duplicates(root: yaml.Node | None, file: str) -> list[str]:
    """``FILE:LINE: duplicate key 'x'`` for every key set twice in one mapping (YAML
    keeps the last silently)."""
    found: list[str] = []
    stack = [root] if root is not None else []
    seen_nodes: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:  # aliases share nodes
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key_node, value_node in node.value:
                line = key_node.start_mark.line + 1
                if isinstance(key_node, yaml.ScalarNode):
                    name = str(key_node.value)
                    if name in first:
                        found.append(
                            f"{file}:{line}: duplicate key '{name}' (first at line "
                            f"{first[name]}; keep one)"
                        )
                    else:
                        first[name] = line
                stack.extend((key_node, value_node))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(found, key=lambda text: int(text[len(file) + 1 :].split(":", 1)[0]))


def parse_config_text(text: str, file: str) -> Config:
    """Validate YAML text; raise ConfigError carrying every problem with its line."""
    try:
        root, data = _compose_and_construct(text, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        column = mark.column + 1 if mark else 1
        detail = str(exc.problem or exc)
        if exc.context:
            started = exc.context_mark
            where = (
                f" started at line {started.line + 1}" if started and started is not mark else ""
            )
            detail += f" ({exc.context}{where})"
        problem = Problem(file, line, "(yaml)", f"syntax error at column {column}: {detail}")
        raise ConfigError(f"{file}: invalid YAML", [str(problem)]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: invalid YAML", [f"{file}:1: (yaml): {exc}"]) from exc
    duplicates = _duplicates(root, file)
    if duplicates:
        raise ConfigError(f"{file}: {len(duplicates)} duplicate key(s)", duplicates)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problem = Problem(
            file,
            1,
            "(top)",
            "the file must be a mapping of sections (camera:, output:, swap:, ...)",
        )
        raise ConfigError(f"{file}: not a mapping", [str(problem)])
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = [str(p) for p in _problems_from_validation(exc, root, file)]
        raise ConfigError(f"{file}: {len(problems)} problem(s)", problems) from exc


def load_config(path: Path) -> Config:
    """Read and validate ``path``. A missing file means defaults."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read the config file ({exc}); check its permissions or pass "
            "another file with --config",
            [f"{path}:1: (file): {exc}"],
        ) from exc
    return parse_config_text(text, str(path))


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file and rename, so readers never see half."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_config(path: Path) -> tuple[Config, bool]:
    """Load ``path``; on first run write the commented defaults there. Returns (config, created)."""
    if path.exists():
        return load_config(path), False
    write_text_atomic(path, render_default_yaml())
    return Config(), True
