"""doctor on this machine, and the config loader under fuzzed input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from vcamswap.config import Config, parse_config_text
from vcamswap.errors import ConfigError


@pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="expects Linux's v4l2loopback advice (test_portability_run.py "
    "checks doctor on Windows and macOS)",
)
def test_doctor_reports_the_missing_virtual_camera_as_fail_with_the_fix(tmp_path: Path) -> None:
    env = {**os.environ, "VCAMSWAP_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "vcamswap", "doctor", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    camera = checks["virtual-camera"]
    assert camera["level"] == "FAIL" and "v4l2loopback" in camera["fix"]
    assert result.returncode == 1
    assert checks["python"]["level"] == "OK" and checks["lite-engine"]["level"] == "OK"
    assert checks["model inswapper_128"]["level"] == "WARN"
    plain = subprocess.run(
        [sys.executable, "-m", "vcamswap", "doctor"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert "FAIL  virtual-camera" in plain.stdout and "modprobe v4l2loopback" in plain.stdout


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=20),
)
keys = st.one_of(
    st.sampled_from(
        [
            "camera",
            "swap",
            "output",
            "width",
            "fps",
            "face",
            "enabled",
            "label",
            "safety",
            "port",
            "providers",
        ]
    ),
    st.text(max_size=10),
)
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_fuzzed_structures_never_crash_the_loader(tree: object) -> None:
    text = yaml.safe_dump(tree)
    try:
        assert isinstance(parse_config_text(text, "fuzz.yaml"), Config)
    except ConfigError as exc:
        assert exc.problems and all(p.startswith("fuzz.yaml:") for p in exc.problems)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fuzzed_text_never_crashes_the_loader(text: str) -> None:
    try:
        parse_config_text(text, "fuzz.yaml")
    except ConfigError as exc:
        assert exc.problems and all(p.startswith("fuzz.yaml:") for p in exc.problems)
