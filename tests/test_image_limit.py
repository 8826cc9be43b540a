"""Decompression bombs: one image loader for every entry point, with the pixel limit from the
config checked from the header before decoding; a clear one-line error, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers_files import bomb_png
from vcamswap.devices.imagefile import ImageFileError, header_size, load_image
from vcamswap.errors import FaceError
from vcamswap.facelib.library import FaceLibrary
from vcamswap.offline.scan import scan_file
from vcamswap.processors.faces import SourceFaceCache, folder_resolver, read_image
from vcamswap.safety.content import ContentVerdict
from vcamswap.samples import sample_photo_path

ROOT = Path(__file__).resolve().parent.parent


def test_the_size_is_read_from_the_header_without_decoding(tmp_path: Path) -> None:
    bomb = bomb_png(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 1000
    assert header_size(bomb.read_bytes()) == (40000, 40000)
    tracemalloc.start()
    with pytest.raises(
        ImageFileError,
        match=r"40000x40000 pixels \(1600 MP\), over the 50 MP "
        r"limit for images \(safety.max_image_megapixels\)",
    ):
        load_image(bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20_000_000, "nothing the size of the picture was allocated"
    # A picture under cv2's own limit but over ours: refused before the decoder runs.
    medium = bomb_png(tmp_path / "medium.png", 10000, 6000)
    with pytest.raises(ImageFileError, match="10000x6000"):
        load_image(medium)
    with pytest.raises(ImageFileError, match=r"over the 0\.1 MP limit"):
        load_image(Path(sample_photo_path("astronaut")), max_pixels=100_000)  # 512x512 = 0.26 MP
    assert load_image(Path(sample_photo_path("astronaut"))).shape == (512, 512, 3)


def test_face_images_the_library_and_content_check_share_the_limit(tmp_path: Path) -> None:
    bomb = bomb_png(tmp_path / "bomb.png")
    with pytest.raises(FaceError, match="40000x40000"):
        read_image(bomb)
    with pytest.raises(FaceError, match="40000x40000"):
        FaceLibrary(tmp_path / "faces").add(bomb, name="bomb")
    assert not (tmp_path / "faces").exists() or list((tmp_path / "faces").iterdir()) == []

    class Never:
        def classify(self, image: object) -> ContentVerdict:
            raise AssertionError("a refused file is never decoded nor checked")

    verdict = scan_file(Never(), bomb)
    assert verdict.status == "error" and verdict.error and "40000x40000" in verdict.error
    # The resolver refuses a bomb by name before anything reads it, at the configured limit.
    faces = tmp_path / "library"
    faces.mkdir()
    bomb_png(faces / "big.png", 3000, 2000)
    with pytest.raises(FaceError, match="3000x2000"):
        folder_resolver(faces, max_pixels=5_000_000)("big")
    assert folder_resolver(faces, max_pixels=6_000_000)("big") == faces / "big.png"
    with pytest.raises(FaceError, match="no face named"):
        folder_resolver(faces)("x" * 300)  # a name too long for the file system
    cache: SourceFaceCache[int] = SourceFaceCache(
        folder_resolver(faces, 5_000_000), lambda image, name, digest: 1
    )
    with pytest.raises(FaceError, match="3000x2000"):
        cache.prefetch("big")


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VCAMSWAP_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "vcamswap", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        cwd=ROOT,
        check=False,
    )


def one_clear_line(done: subprocess.CompletedProcess[str], needle: str) -> None:
    errors = [line for line in done.stderr.splitlines() if line.startswith("vcamswap:")]
    assert len(errors) == 1 and needle in errors[0], done.stderr
    assert "Traceback" not in done.stderr and "cv2.error" not in done.stderr


def test_every_cli_entry_point_refuses_a_bomb_in_one_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    bomb = bomb_png(tmp_path / "bomb.png")
    photo = tmp_path / "in.jpg"
    Image.open(sample_photo_path("astronaut")).convert("RGB").save(photo)
    face = str(sample_photo_path("grace_hopper"))
    swap = run_cli(
        home,
        "swap",
        "--face",
        face,
        "--input",
        str(bomb),
        "--output",
        str(tmp_path / "o.png"),
        "--accept-consent",
    )
    assert swap.returncode == 1
    one_clear_line(swap, "40000x40000")
    as_face = run_cli(
        home,
        "swap",
        "--face",
        str(bomb),
        "--input",
        str(photo),
        "--output",
        str(tmp_path / "o.jpg"),
        "--accept-consent",
    )
    assert as_face.returncode == 1
    one_clear_line(as_face, "40000x40000")
    add = run_cli(home, "faces", "add", str(bomb), "--name", "bomb")
    assert add.returncode == 1
    one_clear_line(add, "40000x40000")
    # content-check documents exit 2 for a file it cannot check; the setting applies.
    (home / "config.yaml").write_text("safety:\n  max_image_megapixels: 1\n")
    big = tmp_path / "big.png"
    Image.fromarray(np.zeros((1000, 1500, 3), np.uint8)).save(big)
    check = run_cli(home, "content-check", "--json", str(bomb), str(big))
    assert check.returncode == 2, check.stderr
    files = json.loads(check.stdout)["files"]
    assert [f["verdict"] for f in files] == ["error", "error"]
    assert "40000x40000" in files[0]["error"] and "1500x1000" in files[1]["error"]
    assert "over the 1 MP limit" in files[1]["error"]
    assert not list(tmp_path.glob("o.*")) and not list(tmp_path.glob(".o*"))
