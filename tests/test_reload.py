"""Config hot reload on a running pipeline: valid edits, invalid edits, bursts of saves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import wait_for as poll
from vcamswap.config import AppPaths, load_config
from vcamswap.config.render import render_default_yaml
from vcamswap.daemon.builders import RunSpec, build_supervisor
from vcamswap.daemon.reload import ConfigWatcher, Reloader

BASE = (
    render_default_yaml()
    .replace("  device: 0\n", "  device: pattern\n", 1)
    .replace("  width: 1280\n", "  width: 320\n", 1)
    .replace("  height: 720\n", "  height: 240\n", 1)
    .replace("  target: virtual\n", "  target: 'null'\n", 1)
)


def wait_for(predicate: object, timeout: float = 5.0) -> bool:
    return poll(predicate, timeout)  # type: ignore[arg-type]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Path, Reloader]]:
    path = tmp_path / "config.yaml"
    path.write_text(BASE.replace("  engine: auto\n", "  engine: lite\n", 1))
    config = load_config(path)
    paths = AppPaths.under(tmp_path / "home")
    supervisor = build_supervisor(config, paths, RunSpec())
    supervisor.start()
    reloader = Reloader(path, config, paths, supervisor)
    ConfigWatcher(reloader, supervisor.stop_event, interval=0.1, settle=0.1).start()
    yield path, reloader
    supervisor.stop()


def test_a_valid_edit_restarts_only_what_changed(running: tuple[Path, Reloader]) -> None:
    path, reloader = running
    supervisor = reloader._supervisor
    assert wait_for(lambda: supervisor.status().frames_out > 3)
    processor = supervisor.processor
    path.write_text(
        path.read_text()
        .replace("  width: 320\n", "  width: 640\n", 1)
        .replace("  height: 240\n", "  height: 480\n", 1)
    )
    assert wait_for(lambda: "640x480" in supervisor.status().camera)
    assert supervisor.processor is processor, "the processor was not rebuilt"
    assert wait_for(
        lambda: (
            supervisor.last_output() is not None
            and supervisor.last_output().shape[:2] == (480, 640)  # type: ignore[union-attr]
        )
    )
    path.write_text(path.read_text().replace("  enabled: true\n", "  enabled: false\n", 1))
    assert wait_for(lambda: not supervisor.state.get().swap_enabled)
    path.write_text(path.read_text().replace("  opacity: 1.0\n", "  opacity: 0.5\n", 1))
    assert wait_for(lambda: supervisor.processor is not processor), "swap settings rebuild it"
    assert reloader.problems == []


def test_an_invalid_edit_is_reported_and_the_old_config_keeps_running(
    running: tuple[Path, Reloader],
) -> None:
    path, reloader = running
    supervisor = reloader._supervisor
    good = path.read_text()
    path.write_text(good.replace("  width: 320\n", "  widht: 640\n", 1))
    assert wait_for(lambda: bool(reloader.problems))
    assert any("camera.widht: unknown key; did you mean 'width'?" in p for p in reloader.problems)
    assert any(p.startswith(f"{path}:") for p in reloader.problems)
    assert reloader.config.camera.width == 320
    frames = supervisor.status().frames_out
    assert wait_for(lambda: supervisor.status().frames_out > frames + 5), "frames keep flowing"
    path.write_text("camera: [unclosed\n")
    assert wait_for(lambda: any("syntax error" in p for p in reloader.problems))
    path.write_text(good)
    assert wait_for(lambda: reloader.problems == [])


def test_a_burst_of_saves_ends_in_the_last_state(running: tuple[Path, Reloader]) -> None:
    path, reloader = running
    text = path.read_text()
    for width in (400, 480, 560, 640, 720, 800, 880, 960, 1024, 1280):
        path.write_text(text.replace("  width: 320\n", f"  width: {width}\n", 1))
        time.sleep(0.02)
    assert wait_for(lambda: reloader.config.camera.width == 1280, timeout=8)
    assert wait_for(lambda: "1280x240" in reloader._supervisor.status().camera)
    assert reloader.problems == []
