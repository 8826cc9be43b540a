from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import BrokenBackend, MemoryCameraBackend
from vcamswap.config import AppPaths
from vcamswap.types import BgrImage


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests read English messages whatever the developer's locale (the language tests set
    their own); subprocesses inherit it."""
    monkeypatch.setenv("LANGUAGE", "en")


@pytest.fixture
def app_paths(tmp_path: Path) -> AppPaths:
    return AppPaths.under(tmp_path / "home")


@pytest.fixture
def memory_camera() -> Iterator[type[MemoryCameraBackend]]:
    import pyvirtualcam

    MemoryCameraBackend.instances.clear()
    pyvirtualcam.register_backend("memory", MemoryCameraBackend)
    pyvirtualcam.register_backend("broken", BrokenBackend)
    yield MemoryCameraBackend
    MemoryCameraBackend.instances.clear()


@pytest.fixture(scope="module")
def group_photo() -> BgrImage:
    """insightface's group photo t1.jpg: many faces, for the detector tests."""
    from tests.helpers.models import load_group_photo

    return load_group_photo()
