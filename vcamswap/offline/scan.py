"""`vcamswap content-check`: the content check over image and video files (videos sampled at
about one frame per second)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vcamswap.devices.imagefile import DEFAULT_MAX_PIXELS, ImageFileError, load_image
from vcamswap.safety.content import ContentClassifier, ContentVerdict

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".webm", ".avi", ".m4v")


@dataclass(frozen=True, slots=True)
class FileVerdict:
    path: Path
    status: str  # "clean", "flagged" or "error"
    labels: tuple[tuple[str, float], ...] = ()
    frames_checked: int = 0
    error: str | None = None
    flagged_at: list[float] = field(default_factory=list)
    """Videos: the seconds of the flagged samples."""

    def to_dict(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "verdict": self.status,
            "labels": [{"label": label, "score": round(score, 4)} for label, score in self.labels],
            "frames_checked": self.frames_checked,
            "flagged_at_s": self.flagged_at,
            "error": self.error,
        }


def _merge(verdicts: list[ContentVerdict]) -> tuple[tuple[str, float], ...]:
    best: dict[str, float] = {}
    for verdict in verdicts:
        for label, score in verdict.labels:
            best[label] = max(best.get(label, 0.0), score)
    return tuple(sorted(best.items(), key=lambda item: -item[1])[:3])


def scan_file(
    classifier: ContentClassifier, path: Path, max_pixels: int = DEFAULT_MAX_PIXELS
) -> FileVerdict:
    """Images over ``max_pixels`` (from the header) are an error, never decoded."""
    suffix = path.suffix.lower()
    if not path.is_file():
        return FileVerdict(path, "error", error="no such file")
    if suffix in IMAGE_SUFFIXES:
        try:
            image = load_image(path, max_pixels)
        except ImageFileError as exc:
            return FileVerdict(path, "error", error=str(exc))
        verdict = classifier.classify(image)
        return FileVerdict(path, "flagged" if verdict.flagged else "clean", verdict.labels, 1)
    if suffix in VIDEO_SUFFIXES:
        return _scan_video(classifier, path)
    return FileVerdict(
        path,
        "error",
        error=f"not an image ({', '.join(IMAGE_SUFFIXES)}) or a "
        f"video ({', '.join(VIDEO_SUFFIXES)})",
    )


def _scan_video(classifier: ContentClassifier, path: Path) -> FileVerdict:
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        return FileVerdict(path, "error", error=f"unreadable video ({exc})")
    verdicts: list[ContentVerdict] = []
    flagged_at: list[float] = []
    try:
        if not container.streams.video:
            return FileVerdict(path, "error", error="no video stream")
        stream = container.streams.video[0]
        next_at = 0.0
        for frame in container.decode(stream):
            t = float(frame.time) if frame.time is not None else next_at
            if t + 1e-6 < next_at:
                continue
            next_at = t + 1.0
            verdict = classifier.classify(np.ascontiguousarray(frame.to_ndarray(format="bgr24")))
            verdicts.append(verdict)
            if verdict.flagged:
                flagged_at.append(round(t, 2))
    except av.error.FFmpegError as exc:
        if not verdicts:
            return FileVerdict(path, "error", error=f"unreadable video ({exc})")
    finally:
        container.close()
    if not verdicts:
        return FileVerdict(path, "error", error="no decodable frame")
    return FileVerdict(
        path,
        "flagged" if flagged_at else "clean",
        _merge(verdicts),
        len(verdicts),
        flagged_at=flagged_at,
    )
