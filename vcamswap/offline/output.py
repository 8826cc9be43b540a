"""Output files of offline jobs: never the input, written through a hidden temp file with the
user's umask, a full disk reported in one line with the partial file removed, and SIGTERM or
SIGHUP unwinding like Ctrl-C so the temp file is cleaned up."""

from __future__ import annotations

import errno
import os
import secrets
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType

from vcamswap.errors import VCamSwapError
from vcamswap.i18n import _

CLEANUP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP during a job: unwinds like Ctrl-C (temp files removed)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name one file: through links, ``..``, hard links."""
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass  # the output does not exist yet
    return a.resolve() == b.resolve()


def refuse_same_file(source: Path, output: Path) -> None:
    if same_file(source, output):
        raise VCamSwapError(
            _(
                "the output {file} is the input file: the output must be a new file (the input "
                "is never modified)"
            ).format(file=output)
        )


def mount_point(path: Path) -> Path:
    """The mount point of the file system that holds ``path`` (or would)."""
    current = path.resolve()
    while not current.exists() and current != current.parent:
        current = current.parent
    while not os.path.ismount(current) and current != current.parent:
        current = current.parent
    return current


def write_error(output: Path, exc: OSError) -> VCamSwapError:
    """The one-line message for a failed write; a full disk names the file system."""
    if exc.errno == errno.ENOSPC:
        return VCamSwapError(
            f"no space left on {mount_point(output.parent)} for {output}: "
            "free some space or write the output elsewhere"
        )
    return VCamSwapError(f"cannot write {output}: {exc.strerror or exc}")


def new_temp_file(output: Path, opener: Callable[..., int] = os.open) -> Path:
    """Create an empty hidden ``.NAME.XXXX.SUFFIX`` next to ``output``, mode 0666 less the
    umask like any new file (mkstemp would make it 0600)."""
    for _attempt in range(100):
        temp = output.with_name(f".{output.stem}.{secrets.token_hex(4)}{output.suffix}")
        try:
            fd = opener(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return temp
    raise VCamSwapError(_("cannot create a temp file next to {file}").format(file=output))


def discard(partial: Path, *closers: Callable[[], object]) -> None:
    """Close what is open (errors ignored: the job failed already) and remove ``partial``."""
    for close in closers:
        with suppress(Exception):
            close()
    with suppress(OSError):
        partial.unlink(missing_ok=True)


@contextmanager
def cleanup_on_signals(signals: tuple[int, ...] = CLEANUP_SIGNALS) -> Iterator[None]:
    """While the block runs on the main thread, SIGTERM and SIGHUP raise ``Terminated`` there,
    so every ``except BaseException``/``finally`` removes its temp file. The previous
    handlers come back afterwards. Elsewhere than the main thread: no change."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        raise Terminated(signum)

    previous = {number: signal.signal(number, on_signal) for number in signals}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
