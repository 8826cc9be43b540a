"""Source faces: resolve a name to an image file, read it, and cache what an engine derives from
it (lite mesh, neural latent) by the file's content hash."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from vcamswap.devices.imagefile import (
    CEILING_PIXELS,
    DEFAULT_MAX_PIXELS,
    ImageFileError,
    check_image_file,
    load_image,
)
from vcamswap.errors import FaceError
from vcamswap.i18n import _
from vcamswap.types import BgrImage

T = TypeVar("T")
log = logging.getLogger(__name__)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def read_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> BgrImage:
    """Read a photo as BGR through the one image loader (pixel limit from the header first);
    FaceError naming the file if it is missing, not an image or too large."""
    try:
        return load_image(path, max_pixels)
    except ImageFileError as exc:
        raise FaceError(str(exc)) from exc


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, a loop of links: not a face
        return False


def folder_resolver(
    folder: Path, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Callable[[str | None], Path]:
    """Resolve a face name (file stem in ``folder``), a path, or None (first face in folder).
    A file over ``max_pixels`` (from its header) is refused here, before anything reads it."""

    def checked(path: Path) -> Path:
        try:
            check_image_file(path, max_pixels)
        except ImageFileError as exc:
            raise FaceError(str(exc)) from exc
        return path

    def resolve(name: str | None) -> Path:
        if name:
            if "\0" in name:
                raise FaceError(_("a face name cannot contain a NUL character"))
            candidate = Path(name).expanduser()
            if _is_file(candidate):
                return checked(candidate)
            for suffix in IMAGE_SUFFIXES:
                path = folder / f"{name}{suffix}"
                if _is_file(path):
                    return checked(path)
            raise FaceError(
                _(
                    "no face named {name} in {folder}; add it with "
                    "`vcamswap faces add PHOTO --name NAME` or give an image path"
                ).format(name=repr(name), folder=folder)
            )
        faces = (
            sorted(p for p in folder.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if folder.is_dir()
            else []
        )
        if not faces:
            raise FaceError(
                _(
                    "no source face: put a photo in {folder} or set swap.face (or run with "
                    "--face PHOTO)"
                ).format(folder=folder)
            )
        return checked(faces[0])

    return resolve


class SourceFaceCache(Generic[T]):
    """Builds an engine's source data once per face file content (sha256), keeps a few.
    Names come through the resolver, which applied the configured pixel limit; the read here
    holds the hard ceiling, for a file replaced in between.

    ``get`` runs on the inference thread. ``prefetch`` runs on another thread (the control API,
    the tray) before a face switch, with its own builder, so the switch finds the face ready and
    the frame path never waits for a detection."""

    def __init__(
        self,
        resolve: Callable[[str | None], Path],
        build: Callable[[BgrImage, str, str], T],
        capacity: int = 8,
    ) -> None:
        self._resolve = resolve
        self._build = build
        self._capacity = capacity
        self._lock = threading.Lock()
        self._by_hash: OrderedDict[str, T] = OrderedDict()
        self._by_name: dict[str | None, tuple[Path, float, str]] = {}

    def _digest(self, name: str | None) -> tuple[str, Path]:
        path = self._resolve(name)
        mtime = path.stat().st_mtime
        with self._lock:
            known = self._by_name.get(name)
        if known and known[0] == path and known[1] == mtime:
            return known[2], path
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with self._lock:
            self._by_name[name] = (path, mtime, digest)
        return digest, path

    def _store(self, digest: str, item: T) -> None:
        with self._lock:
            self._by_hash[digest] = item
            while len(self._by_hash) > self._capacity:
                self._by_hash.popitem(last=False)

    def cached(self, name: str | None) -> bool:
        digest, _size = self._digest(name)
        with self._lock:
            return digest in self._by_hash

    def get(self, name: str | None) -> T:
        digest, path = self._digest(name)
        with self._lock:
            item = self._by_hash.get(digest)
            if item is not None:
                self._by_hash.move_to_end(digest)
                return item
        item = self._build(read_image(path, CEILING_PIXELS), str(path), digest)
        log.info("loaded source face %s", path)
        self._store(digest, item)
        return item

    def prefetch(
        self, name: str | None, build: Callable[[BgrImage, str, str], T] | None = None
    ) -> None:
        """Prepare ``name`` now (off the frame path); FaceError if it cannot be used."""
        digest, path = self._digest(name)
        with self._lock:
            if digest in self._by_hash:
                return
        item = (build or self._build)(read_image(path, CEILING_PIXELS), str(path), digest)
        self._store(digest, item)
        log.info("prepared source face %s", path)
