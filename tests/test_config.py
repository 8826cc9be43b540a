from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vcamswap.config import AppPaths, Config, ensure_config, load_config, parse_config_text
from vcamswap.config.render import render_default_yaml, render_schema
from vcamswap.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env_home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = None
    if env_home is not None:
        import os

        env = {**os.environ, "VCAMSWAP_HOME": str(env_home)}
    return subprocess.run(
        [sys.executable, "-m", "vcamswap", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        check=False,
    )


def test_committed_default_yaml_and_schema_are_generated_from_the_models() -> None:
    hint = "regenerate with: python -m vcamswap.config.render config"
    assert (ROOT / "config" / "default.yaml").read_text() == render_default_yaml(), hint
    assert (ROOT / "config" / "schema.json").read_text() == render_schema(), hint


def test_default_yaml_validates_to_the_defaults() -> None:
    assert load_config(ROOT / "config" / "default.yaml") == Config()


def test_every_field_has_a_description() -> None:
    schema = json.loads(render_schema())
    missing = []
    for name, definition in schema["$defs"].items():
        for field, spec in definition.get("properties", {}).items():
            if not spec.get("description"):
                missing.append(f"{name}.{field}")
    assert not missing


def test_every_key_in_default_yaml_is_preceded_by_a_comment() -> None:
    lines = render_default_yaml().splitlines()
    for index, line in enumerate(lines):
        if line.strip() and not line.strip().startswith("#"):
            assert lines[index - 1].strip().startswith("#"), line


def test_check_config_accepts_the_default_file() -> None:
    result = run_cli("check-config", "config/default.yaml")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


BAD = """\
camera:
  widht: 1280
  fps: fast
swap:
  opacity: 1.5
  engine: quantum
"""


def test_check_config_reports_each_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    result = run_cli("check-config", str(path))
    assert result.returncode == 2
    err = result.stderr
    assert f"{path}:2: camera.widht: unknown key; did you mean 'width'?" in err
    assert f"{path}:3: camera.fps: " in err and "'fast'" in err
    assert f"{path}:5: swap.opacity: Input should be less than or equal to 1" in err
    assert f"{path}:6: swap.engine: " in err and "'auto', 'neural' or 'lite'" in err


def test_check_config_reports_yaml_syntax_errors_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text("camera:\n  width: 640\n  height: [480\nswap:\n  opacity: 1\n")
    result = run_cli("check-config", str(path))
    assert result.returncode == 2
    assert f"{path}:4: (yaml): syntax error at column 5" in result.stderr
    assert "started at line 3" in result.stderr


def test_check_config_on_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = run_cli("check-config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_wrong_types_and_top_level_shapes() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("camera: 5\ncontrol:\n  port: 70000\n", "c.yaml")
    assert info.value.problems == [
        "c.yaml:1: camera: Input should be a valid dictionary or instance of CameraConfig (got 5)",
        "c.yaml:3: control.port: Input should be less than or equal to 65535 (got 70000)",
    ]
    with pytest.raises(ConfigError) as info:
        parse_config_text("- a\n- b\n", "c.yaml")
    assert "must be a mapping" in info.value.problems[0]


def test_unknown_section_suggests_the_nearest() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("swpa:\n  enabled: false\n", "c.yaml")
    assert info.value.problems == ["c.yaml:1: swpa: unknown key; did you mean 'swap'?"]


def test_empty_file_means_defaults() -> None:
    assert parse_config_text("", "c.yaml") == Config()
    assert parse_config_text("# only comments\n", "c.yaml") == Config()


def test_first_run_writes_the_commented_defaults(app_paths: AppPaths) -> None:
    config, created = ensure_config(app_paths.config_file)
    assert created and config == Config()
    text = app_paths.config_file.read_text()
    assert text == render_default_yaml()
    _, created_again = ensure_config(app_paths.config_file)
    assert not created_again


def test_user_edits_are_read_back(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("swap:\n  engine: lite\n  opacity: 0.5\noutput:\n  target: 'null'\n")
    config = load_config(path)
    assert config.swap.engine == "lite" and config.swap.opacity == 0.5
    assert config.output.target == "null"


@pytest.mark.parametrize(
    "args", [["--help"], ["check-config", "config/default.yaml"], ["run", "--help"]]
)
def test_light_commands_do_not_import_heavy_modules(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from vcamswap.cli.main import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('cv2', 'dlib', 'onnxruntime', 'pyvirtualcam', 'av', 'numpy')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_bare_on_and_off_mean_the_words_for_switch_choices() -> None:
    """YAML 1.1 reads a bare on/off as true/false; choices spelled 'on'/'off' take the word."""
    text = "models:\n  device_compositing: on\ngovernor:\n  mode: off\n"
    config = parse_config_text(text, "c.yaml")
    assert config.models.device_compositing == "on" and config.governor.mode == "off"
