"""Model files on disk: streaming sha256 verification (cached by size, mtime, ctime and inode
at load time; `models verify` always hashes in full), resumable
downloads to ``.part`` with atomic rename, and messages that name the file and the fix."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vcamswap.errors import ModelError
from vcamswap.inference.catalog import ModelSpec

log = logging.getLogger(__name__)
CHUNK = 1 << 20
State = Literal["ok", "missing", "wrong-size", "wrong-digest", "unreadable"]
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True, slots=True)
class Override:
    path: Path
    sha256: str


@dataclass(frozen=True, slots=True)
class Verification:
    spec: ModelSpec
    path: Path
    state: State
    actual: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def message(self, accepted: Iterable[str]) -> str:
        expected = " or ".join(accepted)
        if self.state == "missing":
            urls = "\n    ".join(self.spec.urls) or "(no known URL)"
            return (
                f"{self.spec.name}: {self.path.name} is missing. Download it (`vcamswap "
                f"models fetch {self.spec.name}`) or put it in {self.path.parent} from:\n"
                f"    {urls}"
            )
        if self.state == "wrong-size":
            return (
                f"{self.spec.name}: {self.path} has {self.actual} bytes, expected "
                f"{self.spec.size}: truncated or a different file; delete it and fetch again"
            )
        if self.state == "unreadable":
            return f"{self.spec.name}: cannot read {self.path}: {self.actual}"
        return (
            f"{self.spec.name}: {self.path} is corrupt or not the expected file: sha256 "
            f"{self.actual}, expected {expected}. Delete it and fetch again, or pin your own "
            f"file in models.overrides.{self.spec.name} (path + sha256)"
        )


def file_sha256(path: Path) -> str:
    """sha256 of ``path``, read in chunks."""
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


class ModelStore:
    """The model folder. Constructing it does no I/O."""

    def __init__(
        self, folder: Path, cache_file: Path, overrides: dict[str, Override] | None = None
    ) -> None:
        self.folder = folder
        self._cache_file = cache_file
        self._overrides = overrides or {}

    def path(self, spec: ModelSpec) -> Path:
        override = self._overrides.get(spec.name)
        return override.path if override else self.folder / spec.file

    def accepted(self, spec: ModelSpec) -> tuple[str, ...]:
        override = self._overrides.get(spec.name)
        return (override.sha256.lower(),) if override else spec.sha256

    def _load_cache(self) -> dict[str, list[object]]:
        try:
            data = json.loads(self._cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def digest(self, path: Path, full: bool = False) -> str:
        """sha256 of ``path``, streamed. Reused while size, mtime_ns, ctime_ns and inode are
        unchanged (bytes rewritten in place with the mtime put back still change ctime);
        ``full`` always hashes, and refreshes the cache."""
        stat = path.stat()
        key = str(path.resolve())
        identity = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        cache = self._load_cache()
        hit = cache.get(key)
        if not full and isinstance(hit, list) and len(hit) == 5 and hit[:4] == identity:
            return str(hit[4])
        digest = file_sha256(path)
        cache[key] = [*identity, digest]
        try:
            self._cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(cache), encoding="utf-8")
            os.replace(tmp, self._cache_file)
        except OSError as exc:
            log.debug("digest cache not written: %s", exc)
        return digest

    def verify(self, spec: ModelSpec, full: bool = False) -> Verification:
        """``full`` (`models verify`): hash the file whatever the cache says."""
        path = self.path(spec)
        if not path.is_file():
            return Verification(spec, path, "missing")
        overridden = spec.name in self._overrides
        try:
            size = path.stat().st_size
            if spec.size is not None and not overridden and size != spec.size:
                return Verification(spec, path, "wrong-size", str(size))
            actual = self.digest(path, full)
        except OSError as exc:
            return Verification(spec, path, "unreadable", str(exc))
        if actual not in self.accepted(spec):
            return Verification(spec, path, "wrong-digest", actual)
        return Verification(spec, path, "ok", actual)

    def require(self, specs: Iterable[ModelSpec]) -> dict[str, Path]:
        """Paths of verified files; ModelError listing every missing or bad one otherwise."""
        results = [self.verify(spec) for spec in specs]
        bad = [r for r in results if not r.ok]
        if bad:
            lines = [r.message(self.accepted(r.spec)) for r in bad]
            raise ModelError("neural engine model files are not ready:\n  " + "\n  ".join(lines))
        return {r.spec.name: r.path for r in results}

    def fetch(
        self,
        spec: ModelSpec,
        progress: Progress | None = None,
        retries: int = 3,
        opener: Callable[..., object] = urllib.request.urlopen,
    ) -> Path:
        """Download ``spec`` to ``<file>.part`` (resuming with HTTP Range), verify, rename."""
        target = self.path(spec)
        if self.verify(spec).ok:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        errors: list[str] = []
        for url in spec.urls:
            for attempt in range(1, retries + 1):
                try:
                    self._download(url, partial, progress, opener)
                    break
                except (urllib.error.URLError, OSError, ValueError) as exc:
                    errors.append(f"{url} (try {attempt}): {exc}")
                    log.warning("download of %s failed: %s", spec.file, exc)
                    time.sleep(min(2.0 * attempt, 5.0))
            else:
                continue
            os.replace(partial, target)
            result = self.verify(spec)
            if result.ok:
                return target
            bad = target.with_name(target.name + ".bad")
            os.replace(target, bad)
            errors.append(f"{url}: {result.message(self.accepted(spec))} (kept as {bad.name})")
        raise ModelError(
            f"could not fetch {spec.file} into {target.parent}:\n  "
            + "\n  ".join(errors)
            + f"\nDownload it by hand into {target.parent}."
        )

    def _download(
        self, url: str, partial: Path, progress: Progress | None, opener: Callable[..., object]
    ) -> None:
        have = partial.stat().st_size if partial.exists() else 0
        request = urllib.request.Request(url, headers={"User-Agent": "vcamswap"})
        if have:
            request.add_header("Range", f"bytes={have}-")
        response = opener(request, timeout=30)
        with response as stream:  # type: ignore[attr-defined]
            status = getattr(stream, "status", 200)
            if have and status != 206:
                have = 0  # server ignored Range: start over
            length = stream.headers.get("Content-Length")
            total = have + int(length) if length is not None else None
            with partial.open("ab" if have else "wb") as out:
                done = have
                while chunk := stream.read(CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(partial.name, done, total)
        if total is not None and partial.stat().st_size != total:
            raise OSError(f"connection closed at {partial.stat().st_size} of {total} bytes")
