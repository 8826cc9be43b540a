"""The digest cache: bytes changed in place with the mtime put back are seen at load time
(ctime, inode in the key), and `models verify` always hashes in full."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from vcamswap.inference.catalog import CATALOG
from vcamswap.inference.store import ModelStore, Override

PAYLOAD = bytes(range(256)) * 1024
ROOT = Path(__file__).resolve().parent.parent


def tamper_in_place(path: Path) -> None:
    """64 bytes changed without changing the size, and the mtime put back."""
    before = path.stat()
    time.sleep(0.05)  # past the file system's timestamp granularity
    with path.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\xff" * 64)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_bytes_changed_in_place_with_the_mtime_restored_are_seen(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, tmp_path / "cache.json")
    path = tmp_path / "model.onnx"
    path.write_bytes(PAYLOAD)
    assert store.digest(path) == hashlib.sha256(PAYLOAD).hexdigest()
    tamper_in_place(path)
    assert store.digest(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    # A different file (new inode) renamed over it with the same size and times.
    other = tmp_path / "other.onnx"
    other.write_bytes(PAYLOAD)
    stat = path.stat()
    os.utime(other, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(other, path)
    assert store.digest(path) == hashlib.sha256(PAYLOAD).hexdigest()


def poisoned(tmp_path: Path, path: Path, cache: Path) -> None:
    """A cache entry matching the file's identity but with a wrong digest."""
    stat = path.stat()
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(
        json.dumps(
            {
                str(path.resolve()): [
                    stat.st_size,
                    stat.st_mtime_ns,
                    stat.st_ctime_ns,
                    stat.st_ino,
                    "0" * 64,
                ]
            }
        )
    )


def test_models_verify_hashes_in_full_whatever_the_cache_says(tmp_path: Path) -> None:
    model = tmp_path / "w600k.onnx"
    model.write_bytes(PAYLOAD)
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    cache = tmp_path / "cache.json"
    store = ModelStore(tmp_path, cache, {"w600k_r50": Override(model, digest)})
    poisoned(tmp_path, model, cache)
    spec = CATALOG["w600k_r50"]
    assert store.verify(spec).state == "wrong-digest", "load time trusts a matching entry"
    assert store.verify(spec, full=True).ok
    assert digest in cache.read_text(), "the full hash refreshes the cache"
    # The command: a poisoned cache for the right file still verifies ok, and a tampered file
    # whose cache entry says ok is BAD.
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text(
        f"models:\n  overrides:\n    w600k_r50:\n      path: {model}\n      sha256: {digest}\n"
    )
    home_cache = home / "cache" / "model-digests.json"
    poisoned(tmp_path, model, home_cache)
    env = {**os.environ, "VCAMSWAP_HOME": str(home)}
    run = [sys.executable, "-m", "vcamswap", "models", "verify", "w600k_r50"]
    good = subprocess.run(
        run, capture_output=True, text=True, env=env, timeout=60, cwd=ROOT, check=False
    )
    assert good.returncode == 0 and "ok    w600k_r50" in good.stdout, good.stdout + good.stderr
    tamper_in_place(model)
    stat = model.stat()
    home_cache.write_text(
        json.dumps(
            {
                str(model.resolve()): [
                    stat.st_size,
                    stat.st_mtime_ns,
                    stat.st_ctime_ns,
                    stat.st_ino,
                    digest,
                ]
            }
        )
    )
    bad = subprocess.run(
        run, capture_output=True, text=True, env=env, timeout=60, cwd=ROOT, check=False
    )
    assert bad.returncode == 1 and "BAD   w600k_r50" in bad.stdout, bad.stdout + bad.stderr
