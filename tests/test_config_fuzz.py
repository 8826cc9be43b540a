"""The config loader under 1,200 seeded mutations of a real config (deep nesting included) and
duplicate keys: every outcome is a Config or a ConfigError whose problems are FILE:LINE lines,
never a RecursionError or another traceback."""

from __future__ import annotations

import random
import time

import pytest

from vcamswap.config import Config, parse_config_text
from vcamswap.errors import ConfigError

BASE = """\
camera:
  device: 0
  width: 1280
  height: 720
  fps: 30
output:
  target: virtual
swap:
  engine: auto
  face: me
  sources: [a, b]
  on_face_lost: blur
safety:
  consent_accepted: true
  label:
    text: AI-generated
  max_image_megapixels: 50
control:
  port: 0
logging:
  level: INFO
"""

FRAGMENTS = [
    "[",
    "]",
    "{",
    "}",
    ":",
    "- ",
    "&a ",
    "*a",
    "!!str ",
    "'",
    '"',
    "#",
    "\t",
    ",",
    "? ",
    "|",
    ">",
    "%",
    "@",
    "\\",
    "\x00",
    "\u00e9",
    "1e9",
    "-.inf",
    "~",
    "null",
]


def nest(rng: random.Random, text: str) -> str:
    """Wrap a value in hundreds to thousands of brackets or braces (flow or block style)."""
    lines = text.splitlines()
    index = rng.randrange(len(lines))
    depth = rng.choice([40, 200, 1500, 3000])
    key, sep, _ = lines[index].partition(":")
    if rng.random() < 0.5:
        value = "[" * depth + "1" + "]" * depth if rng.random() < 0.7 else "[" * depth
    else:
        value = "{a: " * depth + "1" + "}" * depth
    lines[index] = f"{key}{sep or ':'} {value}"
    return "\n".join(lines) + "\n"


def block_nest(rng: random.Random, text: str) -> str:
    depth = rng.choice([40, 500])  # past Python's recursion limit in the composer
    return text + "deep:\n" + "".join(" " * level + "-\n" for level in range(depth))


def mutate(rng: random.Random, text: str) -> str:
    kind = rng.randrange(7)
    lines = text.splitlines()
    index = rng.randrange(len(lines))
    if kind == 0:
        return nest(rng, text)
    if kind == 1:
        return block_nest(rng, text)
    if kind == 2:  # a line again: duplicate keys
        lines.insert(index, lines[index])
    elif kind == 3:
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(FRAGMENTS) * rng.randint(1, 4) + text[at:]
    elif kind == 4:
        del lines[index]
    elif kind == 5:  # indentation changed
        lines[index] = " " * rng.randint(0, 5) + lines[index].lstrip()
    else:
        key, _, _ = lines[index].partition(":")
        lines[index] = f"{key}: {rng.choice(['-1', 'yes', '[]', '{}', '1e999', 'x' * 300])}"
    return "\n".join(lines) + "\n"


def test_1200_seeded_mutations_give_a_config_or_file_line_problems() -> None:
    rng = random.Random(22)
    started = time.monotonic()
    outcomes = {"config": 0, "problems": 0}
    for _ in range(1200):
        text = BASE
        for _ in range(rng.randint(1, 3)):
            text = mutate(rng, text)
        try:
            assert isinstance(parse_config_text(text, "fuzz.yaml"), Config)
            outcomes["config"] += 1
        except ConfigError as exc:
            assert exc.problems, text
            for problem in exc.problems:
                assert problem.startswith("fuzz.yaml:"), (problem, text)
                assert problem.split(":")[1].isdigit(), (problem, text)
            outcomes["problems"] += 1
    assert outcomes["config"] > 50 and outcomes["problems"] > 500, outcomes
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 5000 + "]" * 5000 + "\n",
        "swap:\n  sources: " + "{x: " * 3000 + "1" + "}" * 3000,
        "x:\n" + "".join(" " * level + "-\n" for level in range(2000)),
    ],
)
def test_deep_nesting_is_a_file_line_error(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text, "deep.yaml")
    assert caught.value.problems[0].startswith("deep.yaml:")
    assert "nested more than" in caught.value.problems[0]


def test_duplicate_keys_are_file_line_errors() -> None:
    text = (
        "swap:\n  face: alice\n  enhancer: true\n  face: bob\ncontrol:\n  port: 1\n"
        "swap:\n  face: carol\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text, "dup.yaml")
    assert caught.value.problems == [
        "dup.yaml:4: duplicate key 'face' (first at line 2; keep one)",
        "dup.yaml:7: duplicate key 'swap' (first at line 1; keep one)",
    ]
    # The same key in different mappings is fine.
    parse_config_text("swap:\n  enabled: true\ntray:\n  enabled: true\n", "ok.yaml")
