"""Offline jobs never harm files: the input is never the output (through links and ``..``),
a full disk is one line with nothing left behind, SIGTERM and SIGHUP clean up like Ctrl-C,
and outputs follow the umask."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.helpers_files import InvertingProcessor, small_clip
from vcamswap.errors import VCamSwapError
from vcamswap.offline.image import swap_image, write_labelled_image
from vcamswap.offline.output import Terminated, cleanup_on_signals, mount_point
from vcamswap.offline.video import VideoJob
from vcamswap.safety.guard import PrivacyGuard
from vcamswap.samples import sample_photo, sample_photo_path

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def photo(path: Path) -> Path:
    Image.open(sample_photo_path("astronaut")).convert("RGB").save(path)
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_an_image_output_that_is_the_input_is_refused_by_every_spelling(tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    src = photo(folder / "same.jpg")
    before = src.read_bytes()
    (tmp_path / "link.jpg").symlink_to(src)
    os.link(src, tmp_path / "hard.jpg")
    for output in (
        src,
        folder / ".." / "dir" / "same.jpg",
        tmp_path / "link.jpg",
        tmp_path / "hard.jpg",
    ):
        with pytest.raises(VCamSwapError, match="is the input file"):
            swap_image(InvertingProcessor(), PrivacyGuard("passthrough"), src, output)
        assert src.read_bytes() == before, output
    # The symlink as the input, the real file as the output: the same file again.
    with pytest.raises(VCamSwapError, match="is the input file"):
        swap_image(InvertingProcessor(), PrivacyGuard("passthrough"), tmp_path / "link.jpg", src)
    assert src.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["same.jpg"]


def test_swap_cli_refuses_the_input_as_output_before_loading_anything(tmp_path: Path) -> None:
    src = photo(tmp_path / "same.jpg")
    (tmp_path / "x").mkdir()
    before = src.read_bytes()
    env = {**os.environ, "VCAMSWAP_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "vcamswap",
            "swap",
            "--face",
            str(sample_photo_path("grace_hopper")),
            "--input",
            str(src),
            "--output",
            str(tmp_path / "x" / ".." / "same.jpg"),
            "--accept-consent",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 1 and "is the input file" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and src.read_bytes() == before


def test_swapped_images_and_videos_follow_the_umask(tmp_path: Path, umask_022: None) -> None:
    image_out = tmp_path / "out.png"
    write_labelled_image(sample_photo("astronaut"), image_out)
    assert image_out.stat().st_mode & 0o777 == 0o644
    os.umask(0o027)
    write_labelled_image(sample_photo("astronaut"), tmp_path / "out2.jpg")
    assert (tmp_path / "out2.jpg").stat().st_mode & 0o777 == 0o640
    os.umask(0o022)
    clip = small_clip(tmp_path / "in.mp4", frames=6)
    VideoJob(InvertingProcessor(), PrivacyGuard("passthrough"), clip, tmp_path / "o.mp4").run()
    assert (tmp_path / "o.mp4").stat().st_mode & 0o777 == 0o644


class FullDisk:
    """A file that accepts ``room`` bytes, then fails like a full disk (close too)."""

    def __init__(self, path: Path, room: int) -> None:
        self._handle = path.open("wb")
        self._room = room

    def write(self, data: bytes) -> int:
        if self._room < len(data):
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(data)
        return self._handle.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


def test_a_full_disk_writing_an_image_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    with pytest.raises(VCamSwapError) as caught:
        write_labelled_image(
            sample_photo("astronaut"),
            out,
            opener=lambda path: FullDisk(path, 1000),  # type: ignore[arg-type,return-value]
        )
    message = str(caught.value)
    assert message == (
        f"no space left on {mount_point(tmp_path)} for {out}: free some space "
        "or write the output elsewhere"
    )
    assert "\n" not in message and list(tmp_path.iterdir()) == []


class FullDiskContainer:
    """PyAV's output container, failing like a full disk after ``packets`` packets; its close
    (which writes the index) fails the same way, as a real one does."""

    def __init__(self, inner: Any, packets: int) -> None:
        self._inner = inner
        self._left = packets

    def mux(self, packet: Any) -> None:
        if self._left <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._left -= 1
        self._inner.mux(packet)

    def close(self) -> None:
        self._inner.close()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class FullDiskJob(VideoJob):
    def _open_output(self, partial: Path, options: dict[str, str]) -> Any:
        return FullDiskContainer(super()._open_output(partial, options), packets=3)


def test_a_full_disk_writing_a_video_is_one_line_and_removes_the_partial_file(
    tmp_path: Path,
) -> None:
    clip = small_clip(tmp_path / "in.mp4", frames=12)
    out = tmp_path / "out.mp4"
    with pytest.raises(VCamSwapError) as caught:
        FullDiskJob(InvertingProcessor(), PrivacyGuard("passthrough"), clip, out).run()
    assert str(caught.value).startswith(f"no space left on {mount_point(tmp_path)} for {out}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_sigterm_and_sighup_unwind_the_main_thread() -> None:
    for number in (signal.SIGTERM, signal.SIGHUP):
        with pytest.raises(Terminated) as caught, cleanup_on_signals():
            os.kill(os.getpid(), number)
            time.sleep(5)  # the handler raises before this ends
        assert caught.value.signum == number
        assert signal.getsignal(number) is signal.SIG_DFL or callable(signal.getsignal(number))


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM/SIGHUP to a child are POSIX")
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_swap_cli_killed_by_a_signal_leaves_no_partial_file(tmp_path: Path, number: int) -> None:
    clip = small_clip(tmp_path / "in.mp4", frames=240, size=(640, 480))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    env = {**os.environ, "VCAMSWAP_HOME": str(tmp_path / "home")}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vcamswap",
            "swap",
            "--face",
            str(sample_photo_path("grace_hopper")),
            "--input",
            str(clip),
            "--output",
            str(out_dir / "out.mp4"),
            "--engine",
            "lite",
            "--accept-consent",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 90
    while not any(out_dir.iterdir()) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [p.name for p in out_dir.iterdir()] == [".out.part.mp4"], "the job started"
    time.sleep(0.3)
    child.send_signal(number)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 128 + number, stderr
    assert "no output was written" in stderr and "Traceback" not in stderr
    assert list(out_dir.iterdir()) == [], "the hidden partial file is removed"
