"""Tray: the menu driven directly (no display), and one real icon under Xvfb."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import ScriptedSource, passthrough_supervisor
from vcamswap.daemon.controls import DaemonControls
from vcamswap.processors.faces import folder_resolver
from vcamswap.tray.menu import Item, Opener, build_menu, tooltip


@pytest.fixture
def controls(tmp_path: Path) -> Iterator[DaemonControls]:
    faces = tmp_path / "faces"
    faces.mkdir()
    for name in ("alice", "bob"):
        (faces / f"{name}.png").write_bytes(b"png")
    supervisor = passthrough_supervisor(ScriptedSource())
    supervisor.start()
    yield DaemonControls(supervisor, folder_resolver(faces), lambda: ["alice", "bob"], None, "lite")
    supervisor.stop()


def by_text(items: tuple[Item, ...], text: str) -> Item:
    return next(item for item in items if item.text == text)


def test_menu_items_change_the_daemon_state(controls: DaemonControls) -> None:
    opened: list[str] = []
    opener = Opener(
        url=opened.append,
        path=opened.append,
        urls={"preview": "http://127.0.0.1:1/preview?token=t", "about": "A"},
    )
    items = build_menu(controls, opener, "/faces", "/config.yaml")
    swap = by_text(items, "Swap faces")
    assert swap.default and swap.checked and swap.checked()
    assert swap.action
    swap.action()
    assert not controls.status()["swap_enabled"] and not swap.checked()
    faces_menu = by_text(items, "Faces")
    assert faces_menu.submenu
    entries = faces_menu.submenu()
    assert [e.text for e in entries] == ["alice", "bob", "Add face…"]
    bob = entries[1]
    assert bob.action and bob.checked and bob.radio
    bob.action()
    assert controls.status()["face"] == "bob" and bob.checked()
    for text, key in (("Enhancer", "enhancer"), ("Mouth mask", "mouth_mask")):
        item = by_text(items, text)
        assert item.action
        item.action()
        assert controls.status()[key]
    for text in ("Preview", "Open config", "About / Licences"):
        action = by_text(items, text).action
        assert action
        action()
    add = entries[2].action
    assert add
    add()
    assert opened == ["http://127.0.0.1:1/preview?token=t", "/config.yaml", "A", "/faces"]
    assert "VCamSwap:" in tooltip(controls)
    quit_action = by_text(items, "Quit").action
    assert quit_action
    quit_action()
    assert controls.status()["state"] == "stopped"


@pytest.mark.skipif(
    ((shutil.which("Xvfb") is None or shutil.which("trayer") is None) and not os.environ.get("CI"))
    or not sys.platform.startswith("linux"),
    reason="needs Xvfb and trayer (.ci/run installs both on Linux; in CI there it must run)",
)
def test_real_tray_under_xvfb_shows_and_stops(tmp_path: Path) -> None:
    display = f":{90 + os.getpid() % 9}"
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "800x600x24"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {**os.environ, "DISPLAY": display, "VCAMSWAP_HOME": str(tmp_path / "home")}
    time.sleep(1.0)
    tray = subprocess.Popen(
        ["trayer", "--edge", "top"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(0.5)
    config = tmp_path / "config.yaml"
    config.write_text("control:\n  port: 0\nsafety:\n  consent_accepted: true\n")
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vcamswap",
            "run",
            "--config",
            str(config),
            "--camera",
            "pattern",
            "--output",
            "null",
            "--engine",
            "lite",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        lines: list[str] = []
        assert daemon.stdout is not None
        while time.monotonic() < deadline:
            line = daemon.stdout.readline()
            lines.append(line)
            if "tray icon shown" in line or not line:
                break
        assert any("tray icon shown" in line for line in lines), "".join(lines)
        time.sleep(1.0)
        sent = time.monotonic()
        # A stop from another thread (the control API) must reach the tray's X11 loop.
        quit_cmd = subprocess.run(
            [sys.executable, "-m", "vcamswap", "ctl", "--config", str(config), "quit"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert quit_cmd.returncode == 0, quit_cmd.stderr
        daemon.wait(timeout=10)
        assert time.monotonic() - sent < 6.0
        assert daemon.returncode == 0
    finally:
        for process in (daemon, tray, xvfb):
            if process.poll() is None:
                process.kill()


def test_start_at_login_item_toggles_the_login_item(controls: DaemonControls) -> None:
    class Login:
        def __init__(self) -> None:
            self.on = False

        def enable(self) -> None:
            self.on = True

        def disable(self) -> None:
            self.on = False

        def enabled(self) -> bool:
            return self.on

    login = Login()
    items = build_menu(controls, Opener(url=print, path=print), "/f", "/c", login)
    item = by_text(items, "Start at login")
    assert item.action and item.checked and not item.checked()
    item.action()
    assert login.on and item.checked()
    item.action()
    assert not login.on


def test_tooltip_shows_a_rejected_config(controls: DaemonControls) -> None:
    controls._problems = lambda: ["c.yaml:3: swap.opacty: unknown key"]
    assert "config error: c.yaml:3: swap.opacty" in tooltip(controls)


def test_tooltip_and_menu_say_why_and_where(controls: DaemonControls) -> None:
    """The content-check pause, the quality step and remote inference are all visible."""
    from vcamswap.tray.menu import build_menu

    supervisor = controls._supervisor
    supervisor.health.block("Paused: content check")
    assert "Paused: content check: turn Swap faces on to resume" in tooltip(controls)
    controls.set_swap_enabled(True)
    assert "content check" not in tooltip(controls)
    controls._remote = "grpc://gpu.lan:8001"
    assert "remote grpc://gpu.lan:8001 (face crops leave this PC)" in tooltip(controls)
    items = build_menu(controls, Opener(url=lambda u: None, path=lambda p: None), "f", "c")
    assert any(item.text.startswith("Remote inference: grpc://gpu.lan:8001") for item in items)
    quality = by_text(items, "Quality")
    assert quality.submenu is not None
    choices = quality.submenu()
    assert choices[0].text.startswith("Automatic") and choices[1].text == "Always full quality"
    assert choices[1].action is not None
    choices[1].action()
    assert supervisor.governor.view().mode == "off"


def test_icon_colour_follows_the_swap_and_the_state(controls: DaemonControls) -> None:
    """Green only while the swap runs: turning it off (the real face on air) changes the icon,
    and an engine error shows red."""
    from vcamswap.tray.icon import icon_image, icon_state

    time.sleep(0.3)
    assert icon_state(controls.status()) == "running"
    controls.set_swap_enabled(False)
    assert icon_state(controls.status()) == "swap off"
    controls.set_swap_enabled(True)
    assert icon_state(controls.status()) == "running"
    assert icon_state({"state": "error", "swap_enabled": True}) == "error"
    centre = {
        state: icon_image(state).getpixel((32, 10)) for state in ("running", "swap off", "error")
    }
    assert len(set(centre.values())) == 3
