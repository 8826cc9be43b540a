"""`vcamswap verify`: is this picture, video or camera marked as VCamSwap's synthetic output?

Three independent marks are looked for: the hidden watermark (in the pixels, so it survives
re-encoding and scaling, not cropping), a C2PA manifest (offline outputs; broken by
re-encoding, which is what C2PA intends), and the IPTC/XMP or container tags (kept only by
tools that copy metadata)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vcamswap.errors import VCamSwapError
from vcamswap.offline.image import IMAGE_SUFFIXES
from vcamswap.safety.c2pa_sign import ManifestReport, read_manifest
from vcamswap.safety.watermark import THRESHOLD, Codebook, Payload, Reading
from vcamswap.types import BgrImage, FrameSource

WINDOW_S = 2.0
"""Videos are judged in windows of this length; a window is marked when at least half of its
sampled frames are."""
SAMPLES_PER_WINDOW = 10


class UnreadableError(VCamSwapError):
    """The file cannot be decoded as an image or a video (exit 2)."""


@dataclass(frozen=True, slots=True)
class WatermarkReport:
    found: bool
    share: float
    """Marked share of the sampled frames."""
    payload: str | None
    frames: int = 0
    windows: int = 0
    windows_found: int = 0


@dataclass(slots=True)
class _Tally:
    frames: int = 0
    marked: int = 0
    windows: int = 0
    windows_found: int = 0
    payloads: dict[int, int] = field(default_factory=dict)
    _window: list[bool] = field(default_factory=list)

    def add(self, reading: Reading) -> None:
        self.frames += 1
        self._window.append(reading.found)
        if reading.found:
            self.marked += 1
            self.payloads[reading.payload] = self.payloads.get(reading.payload, 0) + 1

    def close_window(self) -> None:
        if self._window:
            self.windows += 1
            self.windows_found += int(sum(self._window) * 2 >= len(self._window))
            self._window = []

    def report(self) -> WatermarkReport:
        self.close_window()
        payload = max(self.payloads, key=lambda k: self.payloads[k]) if self.payloads else None
        return WatermarkReport(
            found=self.windows_found > 0,
            share=self.marked / self.frames if self.frames else 0.0,
            payload=Payload.of(payload).describe() if payload is not None else None,
            frames=self.frames,
            windows=self.windows,
            windows_found=self.windows_found,
        )


def read_frames(codebook: Codebook, frames: Iterable[tuple[float, BgrImage]]) -> WatermarkReport:
    """Tally ``(seconds, frame)`` pairs into ``WINDOW_S`` windows."""
    tally = _Tally()
    window_end = None
    for seconds, image in frames:
        if window_end is None:
            window_end = seconds + WINDOW_S
        while seconds >= window_end:
            tally.close_window()
            window_end += WINDOW_S
        tally.add(codebook.read(image))
    return tally.report()


def video_frames(path: Path) -> Iterator[tuple[float, BgrImage]]:
    """Sampled decoded frames of a video: about ``SAMPLES_PER_WINDOW`` per window."""
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        what = "an empty file" if path.stat().st_size == 0 else "not a video FFmpeg can read"
        raise UnreadableError(
            f"{path}: {what} (pictures: jpg, png or webp; videos: mp4, mov, mkv, webm and the "
            "like); check that the file is complete"
        ) from exc
    with container:
        if not container.streams.video:
            raise UnreadableError(f"{path}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or 30)
        step = max(1, round(rate * WINDOW_S / SAMPLES_PER_WINDOW))
        decoded = 0
        try:
            for index, frame in enumerate(container.decode(stream)):
                decoded += 1
                if index % step == 0:
                    seconds = float(frame.time) if frame.time is not None else index / rate
                    yield seconds, np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)
        except av.error.FFmpegError as exc:
            if decoded == 0:
                raise UnreadableError(
                    f"{path}: no frame could be decoded (damaged or truncated video)"
                ) from exc
            # Damage part-way: judge what decoded (a partly broken download of a marked video
            # is still marked).
            return


def image_metadata(path: Path) -> dict[str, str]:
    """IPTC digital source type (XMP), EXIF description and software, PNG text."""
    from PIL import Image

    found: dict[str, str] = {}
    data = path.read_bytes()
    match = re.search(rb"DigitalSourceType>([^<]+)<", data) or re.search(
        rb'DigitalSourceType="([^"]+)"', data
    )
    if match:
        found["digital_source_type"] = match.group(1).decode("utf-8", "replace")
    try:
        with Image.open(path) as picture:
            exif = picture.getexif()
            if 0x010E in exif:
                found["description"] = str(exif[0x010E])
            if 0x0131 in exif:
                found["software"] = str(exif[0x0131])
            for key in ("Description", "Software", "synthetic_media"):
                value = picture.info.get(key)
                if isinstance(value, str):
                    found.setdefault(key.lower(), value)
    except OSError:
        pass
    return found


def video_metadata(path: Path) -> dict[str, str]:
    import av

    keys = ("digital_source_type", "synthetic_media", "description", "comment", "encoder")
    try:
        with av.open(str(path)) as container:
            # Matroska and WebM store tag names upper-case.
            tags: dict[str, Any] = {str(k).lower(): v for k, v in container.metadata.items()}
    except (av.error.FFmpegError, OSError):
        return {}
    return {key: str(tags[key]) for key in keys if key in tags}


@dataclass(frozen=True, slots=True)
class FileReport:
    file: str
    watermark: WatermarkReport
    c2pa: ManifestReport
    iptc: dict[str, str]
    error: str | None = None

    @property
    def marked(self) -> bool:
        synthetic = "compositeWithTrainedAlgorithmicMedia"
        return (
            self.watermark.found
            or (self.c2pa.valid_except_trust and synthetic in (self.c2pa.digital_source_type or ""))
            or synthetic in self.iptc.get("digital_source_type", "")
        )

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "marked": self.marked,
            "watermark": {
                "found": self.watermark.found,
                "share": round(self.watermark.share, 3),
                "payload": self.watermark.payload,
                "frames_sampled": self.watermark.frames,
                "windows": self.watermark.windows,
                "windows_found": self.watermark.windows_found,
            },
            "c2pa": {
                "present": self.c2pa.present,
                "valid_except_trust": self.c2pa.valid_except_trust,
                "digital_source_type": self.c2pa.digital_source_type,
                "signer": self.c2pa.signer,
                "problems": list(self.c2pa.problems),
            },
            "iptc": self.iptc,
        }
        if self.error:
            out["error"] = self.error
        return out


NOTHING = WatermarkReport(False, 0.0, None)
NO_MANIFEST = ManifestReport(False, False, None)


def verify_file(codebook: Codebook, path: Path) -> FileReport:
    """Everything ``path`` says about itself; an unreadable file has ``error`` set."""
    if not path.is_file():
        reason = "is a folder" if path.is_dir() else "does not exist"
        return FileReport(str(path), NOTHING, NO_MANIFEST, {}, f"{path} {reason}")
    try:
        if path.suffix.lower() in IMAGE_SUFFIXES:
            from vcamswap.devices.imagefile import ImageFileError, load_image

            try:
                image = load_image(path)
            except ImageFileError as exc:
                raise UnreadableError(str(exc)) from exc
            watermark = read_frames(codebook, [(0.0, image)])
            metadata = image_metadata(path)
        else:
            watermark = read_frames(codebook, video_frames(path))
            if watermark.frames == 0:
                raise UnreadableError(f"{path}: no frames could be decoded")
            metadata = video_metadata(path)
    except UnreadableError as exc:
        return FileReport(str(path), NOTHING, NO_MANIFEST, {}, str(exc))
    return FileReport(str(path), watermark, read_manifest(path), metadata)


def verify_source(codebook: Codebook, source: FrameSource, seconds: float) -> WatermarkReport:
    """Sample a live source (a webcam, the VCamSwap device) for ``seconds``."""
    source.open()
    try:
        start = time.monotonic()
        frames: list[tuple[float, BgrImage]] = []
        interval = WINDOW_S / SAMPLES_PER_WINDOW
        next_at = 0.0
        while (now := time.monotonic() - start) < seconds:
            image = source.read()
            if image is not None and now >= next_at:
                frames.append((now, image))
                next_at = now + interval
        return read_frames(codebook, frames)
    finally:
        source.close()


def describe(report: FileReport) -> str:
    """The human-readable lines for one file."""
    if report.error:
        return f"{report.file}: unreadable: {report.error}"
    mark = report.watermark
    lines = [f"{report.file}: {'MARKED as synthetic' if report.marked else 'no VCamSwap mark'}"]
    if mark.found:
        where = (
            f"{mark.windows_found} of {mark.windows} {WINDOW_S:.0f}-second windows, "
            if mark.windows > 1
            else ""
        )
        lines.append(
            f"  watermark: found ({where}{mark.share:.0%} of {mark.frames} sampled frames): "
            f"{mark.payload}"
        )
    else:
        lines.append(f"  watermark: not found (threshold z >= {THRESHOLD:g})")
    c2pa = report.c2pa
    if c2pa.present:
        state = (
            "valid apart from trust in the signer"
            if c2pa.valid_except_trust
            else f"INVALID ({', '.join(c2pa.problems)})"
        )
        lines.append(f"  C2PA manifest: {state}; signed by {c2pa.signer}")
        lines.append(f"    digital source type: {c2pa.digital_source_type}")
    else:
        lines.append("  C2PA manifest: none")
    if report.iptc:
        for key, value in report.iptc.items():
            lines.append(f"  metadata {key}: {value}")
    else:
        lines.append("  metadata: none")
    return "\n".join(lines)
