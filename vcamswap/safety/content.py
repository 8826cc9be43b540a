"""The built-in content check: explicit material is refused as a source face, stops offline
jobs, and pauses the live swap. ``ContentClassifier`` is the seam; the implementation runs the
NudeNet detector (packaged in the nudenet wheel, or the user-fetched 640m from the catalog)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vcamswap.devices.imagefile import CEILING_PIXELS, ImageFileError, load_image
from vcamswap.errors import VCamSwapError
from vcamswap.i18n import _
from vcamswap.inference.content import EXPLICIT, NudeNetDetector, packaged_model
from vcamswap.platforms import Platform, current_platform
from vcamswap.types import BgrImage

log = logging.getLogger(__name__)
TOP_LABELS = 3


@dataclass(frozen=True, slots=True)
class ContentVerdict:
    flagged: bool
    labels: tuple[tuple[str, float], ...] = ()
    """The strongest labels found, best first (explicit or not)."""

    def describe(self) -> str:
        if not self.labels:
            return "nothing detected"
        return ", ".join(f"{label} {score:.2f}" for label, score in self.labels)

    def to_dict(self) -> dict[str, object]:
        return {
            "flagged": self.flagged,
            "labels": [{"label": label, "score": round(score, 4)} for label, score in self.labels],
        }


class ContentClassifier(Protocol):
    """Thread-safe: called from the face cache, offline jobs and the live monitor."""

    def classify(self, image: BgrImage) -> ContentVerdict: ...


class ContentFlaggedError(VCamSwapError):
    """The content check refused an image; the message says what and how to proceed."""

    def __init__(self, what: str, verdict: ContentVerdict) -> None:
        self.verdict = verdict
        super().__init__(
            _(
                "{what} was refused by the content check (found {found}): VCamSwap does not "
                "swap explicit material. Use another image; if this is a mistake, raise "
                "safety.content_check.threshold"
            ).format(what=what, found=verdict.describe())
        )


class NudeNetClassifier:
    """Flags an image when an explicit label scores at least ``threshold``."""

    def __init__(self, detector: NudeNetDetector, threshold: float = 0.5) -> None:
        self._detector = detector
        self._threshold = threshold
        self._lock = threading.Lock()  # one run at a time keeps its threads bounded

    def classify(self, image: BgrImage) -> ContentVerdict:
        with self._lock:
            found = self._detector.detect(image)
        best: dict[str, float] = {}
        for detection in found:
            best[detection.label] = max(best.get(detection.label, 0.0), detection.score)
        ranked = sorted(best.items(), key=lambda item: -item[1])
        flagged = any(label in EXPLICIT and score >= self._threshold for label, score in ranked)
        return ContentVerdict(flagged, tuple(ranked[:TOP_LABELS]))


def screen(classifier: ContentClassifier | None, image: BgrImage, what: str) -> None:
    """Raise ContentFlaggedError when ``image`` is flagged; no classifier: no check."""
    if classifier is None:
        return
    verdict = classifier.classify(image)
    if verdict.flagged:
        log.warning("content check: %s flagged (%s)", what, verdict.describe())
        raise ContentFlaggedError(what, verdict)


def nudenet_classifier(
    model: Path | None = None, threshold: float = 0.5, threads: int = 1
) -> NudeNetClassifier:
    """The packaged 320n (``model`` None) or a verified catalog file, on the CPU with
    ``threads`` threads: the check must never compete with the swap for the machine."""
    from vcamswap.inference.content import PACKAGED_SHA256
    from vcamswap.inference.session import SessionFactory, SessionOptions
    from vcamswap.inference.store import file_sha256

    path = model or packaged_model()
    if model is None and file_sha256(path) != PACKAGED_SHA256:
        from vcamswap.errors import ModelError

        raise ModelError(
            f"{path} is not the nudenet 3.4.2 model this check was built for "
            "(digest differs): reinstall it with `pip install --force-reinstall "
            "nudenet==3.4.2`"
        )
    session = SessionFactory(SessionOptions(providers=("cpu",), threads=threads)).create(path)
    return NudeNetClassifier(NudeNetDetector(session, 640 if model else 320, path), threshold)


class LiveContentMonitor:
    """Checks one camera frame every ``interval_s`` on its own low-priority thread.

    ``latest`` returns the newest captured frame without taking it from the pipeline, so the
    frame path never waits on the check; every verdict goes to ``on_verdict``, which decides
    (pause the swap, lift a blank)."""

    def __init__(
        self,
        classifier: ContentClassifier,
        latest: Callable[[], BgrImage | None],
        on_verdict: Callable[[ContentVerdict], None],
        stop: threading.Event,
        interval_s: float = 2.0,
        platform: Platform | None = None,
    ) -> None:
        self._platform = platform or current_platform()
        self._classifier = classifier
        self._latest = latest
        self._on_verdict = on_verdict
        self._stop = stop
        self._interval = interval_s
        self.checks = 0
        self.last_ms = 0.0
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vcamswap-content", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 30.0) -> bool:
        """Stop and join the thread (a check under way finishes first: the interpreter must
        not exit while onnxruntime runs on it). True when the thread has ended."""
        self._closing.set()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        if thread.is_alive():
            log.warning("the content check thread did not stop within %.0f s", timeout)
            return False
        return True

    def _run(self) -> None:
        _lower_priority(self._platform)
        import time

        while not self._closing.wait(self._interval) and not self._stop.is_set():
            image = self._latest()
            if image is None:
                continue
            started = time.perf_counter()
            try:
                verdict = self._classifier.classify(image)
            except Exception as exc:
                log.warning("the live content check failed (%s); trying again later", exc)
                continue
            self.last_ms = (time.perf_counter() - started) * 1000.0
            self.checks += 1
            self._on_verdict(verdict)


def _lower_priority(platform: Platform) -> None:
    """This thread only, the platform's way (Linux: nice 10 on the thread's task; macOS: the
    background band; Windows: THREAD_PRIORITY_LOWEST)."""
    log.debug("content check thread priority: %s", platform.lower_thread_priority())


def screened_resolver(
    resolve: Callable[[str | None], Path], classifier: ContentClassifier | None
) -> Callable[[str | None], Path]:
    """``resolve`` with every face image checked once per file version (path, size, mtime):
    a flagged face raises ContentFlaggedError wherever it is chosen (config, --face, tray,
    ctl), so it is never loaded."""
    if classifier is None:
        return resolve
    clean: set[tuple[str, int, int]] = set()
    lock = threading.Lock()

    def checked(name: str | None) -> Path:
        path = resolve(name)
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with lock:
            if key in clean:
                return path
        try:
            image = load_image(path, CEILING_PIXELS)
        except ImageFileError:
            image = None  # unreadable or too large: the face loader gives its own message
        if image is not None:
            screen(classifier, image, f"the source face {path}")
        with lock:
            clean.add(key)
        return path

    return checked


def build_content_classifier(
    enabled: bool,
    model: str,
    threshold: float,
    verify: Callable[[str], Path] | None = None,
    threads: int = 1,
) -> ContentClassifier | None:
    """From ``safety.content_check``: None when disabled (with the responsibility warning).
    ``verify`` returns the verified path of a catalog model (ModelError when missing)."""
    if not enabled:
        log.warning(
            "the content check is off (safety.content_check.enabled: false): you are "
            "responsible for never swapping explicit material"
        )
        return None
    if model == "packaged":
        return nudenet_classifier(None, threshold, threads)
    if verify is None:
        raise VCamSwapError(f"safety.content_check.model {model!r} needs the model store")
    return nudenet_classifier(verify(model), threshold, threads)
