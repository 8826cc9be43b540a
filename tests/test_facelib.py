"""Face library: add, list, remove with good and bad photos (package-shipped only)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers.faces import crop_face
from vcamswap.errors import FaceError
from vcamswap.facelib.library import FaceLibrary
from vcamswap.inference.landmarks import DlibLandmarker
from vcamswap.processors.lite_source import lite_face_cache
from vcamswap.samples import sample_photo, sample_photo_path


def package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / relative


def test_add_list_remove(tmp_path: Path) -> None:
    library = FaceLibrary(tmp_path / "faces")
    entry = library.add(sample_photo_path("astronaut"), name="eileen")
    library.add(sample_photo_path("grace_hopper"))
    assert library.names() == ["eileen", "grace_hopper"]
    stored = cv2.imread(str(entry.path))
    assert stored is not None and max(stored.shape[:2]) <= 1024
    assert (library.cache / f"{entry.sha256}.lite.npz").is_file()
    with pytest.raises(FaceError, match="already exists"):
        library.add(sample_photo_path("astronaut"), name="Eileen")
    library.remove("eileen")
    assert library.names() == ["grace_hopper"]
    assert not (library.cache / f"{entry.sha256}.lite.npz").exists()
    with pytest.raises(FaceError, match="faces: grace_hopper"):
        library.remove("nobody")


def test_the_lite_engine_uses_the_stored_mesh(tmp_path: Path) -> None:
    library = FaceLibrary(tmp_path / "faces")
    entry = library.add(sample_photo_path("grace_hopper"), name="grace")

    class NoDetect(DlibLandmarker):
        def detect(self, gray: object, upsample: int = 0) -> list:  # type: ignore[type-arg]
            raise AssertionError("the stored mesh should make detection unnecessary")

    cache = lite_face_cache(NoDetect(), lambda _n: entry.path, library.cache)
    mesh = cache.get("grace")
    assert mesh.points.shape == (78, 2) and len(mesh.triangles) > 50


def test_bad_photos_change_nothing(tmp_path: Path) -> None:
    library = FaceLibrary(tmp_path / "faces")
    cat = package_file("skimage", "data/chelsea.png")
    with pytest.raises(FaceError, match="no face found in"):
        library.add(cat)
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(FaceError, match="not a readable image"):
        library.add(corrupt)
    group = package_file("insightface", "data/images/t1.jpg")
    with pytest.raises(FaceError, match=r"faces found in .*--index"):
        library.add(group)
    with pytest.raises(FaceError, match="does not exist: check the path"):
        library.add(tmp_path / "missing.jpg")
    with pytest.raises(FaceError, match="is a folder: name one image file"):
        library.add(tmp_path)
    assert library.names() == []
    assert not (tmp_path / "faces").exists() or not list((tmp_path / "faces").glob("*.png"))


def test_index_picks_one_face_of_a_group(tmp_path: Path) -> None:
    library = FaceLibrary(tmp_path / "faces")
    group = package_file("insightface", "data/images/t1.jpg")
    entry = library.add(group, name="first", index=0)
    assert entry.path.is_file()
    with pytest.raises(FaceError, match="out of range"):
        library.add(group, name="far", index=40)


def test_faces_cli(tmp_path: Path) -> None:
    env = {**os.environ, "VCAMSWAP_HOME": str(tmp_path / "home")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "vcamswap", "faces", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    added = cli("add", str(sample_photo_path("grace_hopper")), "--name", "grace")
    assert added.returncode == 0, added.stderr
    assert "note:" not in added.stderr, "a closed-mouth portrait gets no expression warning"
    group = cv2.imread(str(package_file("insightface", "data/images/t1.jpg")))
    smiling = tmp_path / "smiling.png"
    cv2.imwrite(str(smiling), crop_face(group, 3))
    noted = cli("add", str(smiling), "--name", "smile")
    assert noted.returncode == 0, noted.stderr
    assert "the smile is broad" in noted.stderr and "mouth_mask" in noted.stderr
    assert "grace" in cli("list").stdout
    image = np.zeros((100, 100, 3), np.uint8)
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), image)
    refused = cli("add", str(blank))
    assert refused.returncode == 1 and "no face found" in refused.stderr
    assert cli("remove", "grace").returncode == 0
    assert cli("remove", "smile").returncode == 0
    assert "empty" in cli("list").stdout
    _ = sample_photo("astronaut")
