"""A day in the life of one daemon, driven as a user drives it: `vcamswap run` in a subprocess
(lite engine, a file camera, the control API), then `vcamswap ctl` and hand edits of the config.
After each step the output's face is judged on frames from the daemon's own preview stream with
dlib's face descriptor: it must be the chosen source's, labelled; the log has no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.helpers.daemon import ctl, start_daemon
from tests.helpers.faces import crop_face, descriptor_of, identity_of, package_file
from vcamswap.config import AppPaths
from vcamswap.samples import sample_clip, sample_photo_path
from vcamswap.types import BgrImage

pytestmark = pytest.mark.slow
GUEST = 1  # the second person from the left in insightface's group photo t1.jpg


def status(home: Path) -> dict[str, Any]:
    result = ctl(home, "status", "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def preview_frames(paths: AppPaths, count: int) -> list[BgrImage]:
    """``count`` JPEG frames from the daemon's MJPEG preview (what the camera sends)."""
    port = int(paths.port_file.read_text())
    token = paths.token_file.read_text().strip()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/preview.mjpg", headers={"Authorization": f"Bearer {token}"}
    )
    frames: list[BgrImage] = []
    with urllib.request.urlopen(request, timeout=10) as stream:
        buffer = b""
        while len(frames) < count:
            buffer += stream.read(4096)
            start, end = buffer.find(b"\xff\xd8"), buffer.find(b"\xff\xd9")
            if start >= 0 and end > start:
                jpeg, buffer = buffer[start : end + 2], buffer[end + 2 :]
                frames.append(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR))
    return frames


def labelled(image: BgrImage) -> bool:
    """The badge's dark box with white text in the bottom-right corner."""
    h, w = image.shape[:2]
    corner = image[int(h * 0.85) :, int(w * 0.6) :]
    return (
        int(np.count_nonzero(np.all(corner > 200, axis=2))) > 30
        and int(np.count_nonzero(np.all(corner < 60, axis=2))) > 200
    )


class Faces:
    """The identities in play: the camera's person and the two library faces."""

    def __init__(self, guest: Path) -> None:
        self.known = {
            "camera": identity_of(sample_photo_path("grace_hopper")),
            "astronaut": identity_of(sample_photo_path("astronaut")),
            "guest": identity_of(guest),
        }

    def who(self, image: BgrImage) -> str | None:
        """The library face the output face is closest to, or None when no face is found."""

        found = descriptor_of(image)
        if found is None:
            return None
        distances = {
            name: float(np.linalg.norm(found - ref))
            for name, ref in self.known.items()
            if name != "camera"
        }
        return min(distances, key=lambda name: distances[name])


def expect_face(paths: AppPaths, faces: Faces, name: str, step: str) -> None:
    """Most sampled output frames show ``name``'s face, every one of them labelled."""
    seen: list[str | None] = []
    for _attempt in range(2):  # a loaded CI machine: one more look after another 1.5 s
        time.sleep(1.5)  # the switch settles (a face switch lands within a frame or two)
        frames = preview_frames(paths, 6)
        assert all(labelled(f) for f in frames), f"{step}: an output frame without the label"
        seen = [faces.who(f) for f in frames]
        if seen.count(name) >= 4:
            return
    raise AssertionError(f"{step}: expected {name}, the output showed {seen}")


@pytest.fixture
def daemon(tmp_path: Path) -> Any:
    home = tmp_path / "home"
    paths = AppPaths.under(home)
    faces = home / "data" / "faces"
    faces.mkdir(parents=True)
    cv2.imwrite(str(faces / "astronaut.png"), cv2.imread(str(sample_photo_path("astronaut"))))
    group = cv2.imread(str(package_file("insightface", "data/images/t1.jpg")))

    cv2.imwrite(str(faces / "guest.png"), crop_face(group, GUEST))
    paths.config_file.write_text(
        "safety:\n  consent_accepted: true\n  content_check:\n    enabled: false\n"
        "tray:\n  enabled: false\ncontrol:\n  port: 0\n"
    )
    clip = sample_clip(home / "cache", "grace_hopper", (640, 480), 90)
    log = (tmp_path / "daemon.log").open("w")
    process = start_daemon(
        home,
        ["--camera", f"file:{clip}", "--output", "null", "--engine", "lite", "--face", "astronaut"],
        log,
        tmp_path / "daemon.log",
    )
    try:
        yield home, paths, process, tmp_path / "daemon.log"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        log.close()


def test_a_day_in_the_life(daemon: Any) -> None:
    home, paths, process, log_file = daemon
    faces = Faces(paths.faces_dir / "guest.png")
    deadline = time.monotonic() + 60  # the engine loads; until then the camera shows a card
    while status(home)["swapped_frames"] == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    expect_face(paths, faces, "astronaut", "start with --face")

    assert ctl(home, "disable").stdout.startswith("swap off")
    assert ctl(home, "enable").stdout.startswith("swap on")
    time.sleep(1.5)  # the config watcher has seen the saved toggles
    expect_face(paths, faces, "astronaut", "pause and resume")
    assert status(home)["face"] == "astronaut"

    assert ctl(home, "face", "guest").returncode == 0
    expect_face(paths, faces, "guest", "ctl face")

    config = paths.config_file
    config.write_text(config.read_text() + "governor:\n  window_s: 3.0\n")
    time.sleep(1.5)
    expect_face(paths, faces, "guest", "an unrelated config edit")

    good = config.read_text()
    config.write_text(good + "logging:\n  level: LOUD\n")
    time.sleep(1.5)
    shown = status(home)
    assert any("logging.level" in p for p in shown["config_problems"]), shown["config_problems"]
    expect_face(paths, faces, "guest", "a broken config")
    config.write_text(good)
    time.sleep(1.5)
    assert status(home)["config_problems"] == []
    expect_face(paths, faces, "guest", "the config fixed")

    started = time.monotonic()
    second = subprocess.run(
        [sys.executable, "-m", "vcamswap", "run", "--camera", "pattern", "--output", "null"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "VCAMSWAP_HOME": str(home)},
        check=False,
    )
    assert second.returncode == 1 and time.monotonic() - started < 15
    assert "already running" in second.stderr and f"pid {process.pid}" in second.stderr
    shown = status(home)  # the first daemon is still controllable
    assert shown["face"] == "guest" and shown["engine"] == "lite"
    assert shown["engine_reason"]
    expect_face(paths, faces, "guest", "after a second run was refused")

    assert ctl(home, "quit").returncode == 0
    assert process.wait(15) == 0
    log = log_file.read_text()
    assert "Traceback" not in log, log
    assert "no source face" not in log
