"""A choice made while the config file is broken still applies, is reported as not saved, and
never turns into a server error; an empty file is a reported problem, not a silent success."""

from __future__ import annotations

from pathlib import Path

from tests.fakes import CardRenderer, PixelSink, ScriptedSource
from vcamswap.config import AppPaths, Config
from vcamswap.daemon.controls import DaemonControls
from vcamswap.daemon.reload import Reloader
from vcamswap.pipeline.supervisor import PipelineOptions, Supervisor
from vcamswap.processors.base import PassthroughProcessor
from vcamswap.processors.faces import folder_resolver


def make(tmp_path: Path, text: str) -> tuple[DaemonControls, Supervisor, Path]:
    faces = tmp_path / "faces"
    faces.mkdir()
    (faces / "alice.png").write_bytes(b"png")
    config = tmp_path / "config.yaml"
    config.write_text(text)
    supervisor = Supervisor(
        ScriptedSource(),
        PassthroughProcessor(),
        PixelSink(),
        CardRenderer(),
        options=PipelineOptions(default_size=(64, 48)),
    )
    controls = DaemonControls(supervisor, folder_resolver(faces), lambda: ["alice"], config, "lite")
    return controls, supervisor, config


def test_a_broken_config_file_does_not_undo_or_crash_a_choice(tmp_path: Path) -> None:
    broken = "governor:\n  mode: auto\ngovernor:\n  mode: off\n"  # a duplicate key
    controls, supervisor, config = make(tmp_path, broken)
    controls.set_source_face("alice")
    controls.set_swap_enabled(False)
    assert supervisor.state.get().face == "alice"
    assert supervisor.state.get().swap_enabled is False
    unsaved = controls.status()["unsaved"]
    assert unsaved and "not saved" in unsaved and str(config) in unsaved
    assert config.read_text() == broken  # left as the user wrote it
    config.write_text("swap:\n  enabled: false\n")
    controls.set_swap_enabled(True)
    assert controls.status()["unsaved"] is None


def test_reloading_an_empty_file_is_a_reported_problem(tmp_path: Path) -> None:
    _controls, supervisor, config = make(tmp_path, "")
    reloader = Reloader(config, Config(), AppPaths.under(tmp_path / "home"), supervisor)
    problems = reloader.reload()
    assert problems and "empty" in problems[0] and reloader.problems == problems
    config.write_text("governor:\n  window_s: 3.0\n")
    assert reloader.reload() == [] and reloader.problems == []
