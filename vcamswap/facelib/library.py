"""Faces folder management for `vcamswap faces`, the tray and `ctl face`.

Adding validates the photo (readable, exactly one clear face, or ``index`` to pick one),
stores a normalised copy (the face with a margin, at most 1024 px) as ``NAME.png`` and the lite
engine's mesh keyed by the copy's sha256, so the daemon does not redo the detection. A failed
add changes nothing."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vcamswap.config.loader import write_bytes_atomic
from vcamswap.devices.imagefile import DEFAULT_MAX_PIXELS
from vcamswap.errors import FaceError
from vcamswap.i18n import _
from vcamswap.inference.landmarks import DlibLandmarker
from vcamswap.processors.faces import IMAGE_SUFFIXES, read_image
from vcamswap.processors.lite_source import build_source_mesh, save_mesh
from vcamswap.processors.mesh import expression_notes
from vcamswap.safety.content import ContentClassifier, screen
from vcamswap.types import BgrImage, FaceBox

MAX_SIDE = 1024
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class FaceEntry:
    name: str
    path: Path
    sha256: str
    notes: tuple[str, ...] = ()
    """What in the photo's expression will show on every frame (an open mouth, a broad
    smile): ``faces add`` warns about it."""


def _sanitize(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9 _.-]", "_", name).strip(" ._") or "face"
    return cleaned[:64]


class FaceLibrary:
    """One faces folder. Constructing it does no I/O."""

    def __init__(
        self,
        folder: Path,
        landmarker: DlibLandmarker | None = None,
        content: ContentClassifier | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        self.folder = folder
        self._max_pixels = max_pixels
        self._landmarker = landmarker or DlibLandmarker()
        self._content = content

    @property
    def cache(self) -> Path:
        return self.folder / ".cache"

    def entries(self) -> list[FaceEntry]:
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.iterdir()):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                found.append(FaceEntry(path.stem, path, digest))
        return found

    def names(self) -> list[str]:
        return [entry.name for entry in self.entries()]

    def _faces(self, image: BgrImage) -> list[FaceBox]:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        return [b for b in self._landmarker.detect(gray, upsample=1) if b.score >= 0.3]

    def add(self, source: Path, name: str | None = None, index: int | None = None) -> FaceEntry:
        image = read_image(source, self._max_pixels)
        screen(self._content, image, str(source))  # refused: nothing is stored
        final = _sanitize(name or source.stem)
        if not NAME.match(final):
            raise FaceError(
                _(
                    "{name} is not a usable face name: letters, digits, space, dot, dash and "
                    "underscore"
                ).format(name=repr(final))
            )
        if any(existing.name.lower() == final.lower() for existing in self.entries()):
            raise FaceError(
                _(
                    "a face named {name} already exists in {folder}; remove it first or "
                    "choose another name"
                ).format(name=repr(final), folder=self.folder)
            )
        faces = self._faces(image)
        if not faces:
            raise FaceError(
                _(
                    "no face found in {file}: use a clear, frontal, well-lit photo with the "
                    "face at least 80 pixels wide"
                ).format(file=source)
            )
        if index is None and len(faces) > 1:
            raise FaceError(
                _(
                    "{count} faces found in {file}; crop the photo to one face, or pass "
                    "--index N to `vcamswap faces add` (0 = the largest)"
                ).format(count=len(faces), file=source)
            )
        chosen = faces[index or 0] if (index or 0) < len(faces) else None
        if chosen is None:
            raise FaceError(
                _("--index {index} is out of range: {count} face(s) in {file}").format(
                    index=index, count=len(faces), file=source
                )
            )
        copy = self._normalise(image, chosen)
        if len(faces) > 1 and len(self._faces(copy)) != 1:
            raise FaceError(
                _(
                    "face {index} in {file} is too close to another face to store alone; crop "
                    "the photo first"
                ).format(index=index, file=source)
            )
        mesh = build_source_mesh(self._landmarker, copy, str(source))
        target = self.folder / f"{final}.png"
        ok, encoded = cv2.imencode(".png", copy)
        if not ok:
            raise FaceError(_("could not encode {file} as PNG").format(file=source))
        data = encoded.tobytes()
        write_bytes_atomic(target, data)
        digest = hashlib.sha256(data).hexdigest()
        save_mesh(self.cache / f"{digest}.lite.npz", mesh)
        notes = tuple(expression_notes(mesh.points[:68]))
        return FaceEntry(final, target, digest, notes)

    def _normalise(self, image: BgrImage, box: FaceBox) -> BgrImage:
        """The face with a generous margin (hair, chin, neck), at most MAX_SIDE pixels."""
        h, w = image.shape[:2]
        size = max(box.width, box.height)
        cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
        half = size * 1.1
        x0, y0 = max(0, int(cx - half)), max(0, int(cy - half * 1.1))
        x1, y1 = min(w, int(cx + half)), min(h, int(cy + half * 1.0))
        crop = image[y0:y1, x0:x1]
        scale = min(1.0, MAX_SIDE / max(crop.shape[:2]))
        if scale < 1.0:
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(crop)

    def rename(self, old: str, new: str, keep_old: bool = False) -> str:
        """Renames face ``old`` to ``new`` (the same name rules as ``add``); the new name.
        ``keep_old`` copies instead (``forget`` removes the old name once nothing uses it)."""
        final = _sanitize(new)
        if not NAME.match(final):
            raise FaceError(
                _(
                    "{name} is not a usable face name: letters, digits, space, dot, dash and "
                    "underscore"
                ).format(name=repr(final))
            )
        entries = self.entries()
        entry = next((e for e in entries if e.name.lower() == old.lower()), None)
        if entry is None:
            known = ", ".join(e.name for e in entries) or "none"
            raise FaceError(
                _("no face named {name} in {folder} (faces: {known})").format(
                    name=repr(old), folder=self.folder, known=known
                )
            )
        if any(e.name.lower() == final.lower() and e is not entry for e in entries):
            raise FaceError(
                _("a face named {name} already exists in {folder}").format(
                    name=repr(final), folder=self.folder
                )
            )
        target = entry.path.with_name(f"{final}{entry.path.suffix}")
        if keep_old:
            write_bytes_atomic(target, entry.path.read_bytes())
        else:
            entry.path.rename(target)
        return final

    def forget(self, name: str) -> None:
        """Removes face ``name``'s file only (its cached mesh may be shared by a copy)."""
        for entry in self.entries():
            if entry.name.lower() == name.lower():
                entry.path.unlink(missing_ok=True)

    def remove(self, name: str) -> Path:
        for entry in self.entries():
            if entry.name.lower() == name.lower():
                entry.path.unlink()
                (self.cache / f"{entry.sha256}.lite.npz").unlink(missing_ok=True)
                return entry.path
        known = ", ".join(self.names()) or "none"
        raise FaceError(
            _("no face named {name} in {folder} (faces: {known})").format(
                name=repr(name), folder=self.folder, known=known
            )
        )
