"""Swap faces in a video file with PyAV: decode, process and encode in a bounded pipeline
(decode and process threads, the encoder on the calling thread) so memory stays flat for long
files; keeps fps, frame count, audio (copied, or re-encoded when the container needs it) and
the rotation tag; writes to a temp file renamed at the end, so an interrupted job leaves
nothing under the final name."""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vcamswap.errors import DeviceError, FaceError, VCamSwapError
from vcamswap.i18n import _
from vcamswap.offline import metadata
from vcamswap.offline.output import discard, refuse_same_file, write_error
from vcamswap.pipeline.guarding import guarded_process
from vcamswap.pipeline.protocols import FailurePolicy, FrameProcessor
from vcamswap.safety.content import ContentClassifier, screen
from vcamswap.types import Frame

log = logging.getLogger(__name__)
QUEUE = 8  # frames in flight per hand-off: memory is bounded whatever the file's length
ENCODERS = {"h264": "libx264", "h265": "libx265", "vp9": "libvpx-vp9"}
HARDWARE = {
    "h264": ("h264_nvenc", "h264_videotoolbox", "h264_qsv", "h264_vaapi"),
    "h265": ("hevc_nvenc", "hevc_videotoolbox", "hevc_qsv", "hevc_vaapi"),
    "vp9": ("vp9_qsv", "vp9_vaapi"),
}


def pick_encoder(codec: str, width: int = 256, height: int = 256) -> str:
    """The first hardware encoder for ``codec`` that this FFmpeg build has *and* that opens on
    this machine (a driver or device may be missing), else the software encoder."""
    import av

    for name in HARDWARE.get(codec, ()):
        if name not in av.codecs_available:
            continue
        try:
            context: Any = av.CodecContext.create(name, "w")
            context.width, context.height, context.pix_fmt = width, height, "yuv420p"
            context.time_base = Fraction(1, 30)
            context.open()
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            log.debug("hardware encoder %s unavailable: %s", name, exc)
            continue
        log.info("using the hardware encoder %s", name)
        return name
    return ENCODERS.get(codec, codec)


COPYABLE_AUDIO = {
    ".mp4": {"aac", "mp3", "alac", "ac3", "eac3"},
    ".mov": {"aac", "mp3", "alac", "ac3"},
    ".m4v": {"aac", "mp3"},
    ".webm": {"opus", "vorbis"},
    ".mkv": None,
}
AUDIO_ENCODER = {".webm": "libopus"}
Progress = Callable[[int, int | None, float], None]


@dataclass(frozen=True, slots=True)
class VideoOptions:
    codec: str = "h264"
    crf: int = 20
    start: float | None = None
    end: float | None = None
    encoder: str | None = None


@dataclass(frozen=True, slots=True)
class VideoResult:
    frames: int
    swapped_frames: int
    fps: float
    audio: str
    guarded_frames: int = 0
    """Frames the privacy guard replaced (no face swapped in them)."""


class _StoppedError(Exception):
    pass


def _put(q: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    while True:
        if stop.is_set():
            raise _StoppedError
        try:
            q.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def _get(q: queue.Queue[Any], stop: threading.Event) -> Any:
    while True:
        if stop.is_set():
            raise _StoppedError
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            continue


class VideoJob:
    """One input file to one output file."""

    def __init__(
        self,
        processor: FrameProcessor,
        policy: FailurePolicy,
        source: Path,
        output: Path,
        options: VideoOptions = VideoOptions(),
        progress: Progress | None = None,
        content: ContentClassifier | None = None,
        finish: Callable[[Path], None] | None = None,
    ) -> None:
        """``finish`` is given the complete file before it takes the output's name (the C2PA
        signer): a failure there leaves no output, like any other."""
        self._content = content
        self._finish = finish
        self._check_every = 30  # frames; set to about one second from the input's rate
        self._processor = processor
        self._policy = policy
        self._source = source
        self._output = output
        self._options = options
        self._progress = progress
        self._stop = threading.Event()
        self._errors: list[BaseException] = []
        self._swapped = 0
        self._guarded = 0

    def _open_input(self) -> Any:
        import av

        if not self._source.is_file():
            raise DeviceError(_("input {file} does not exist").format(file=self._source))
        try:
            container = av.open(str(self._source))
        except (av.error.FFmpegError, OSError) as exc:
            raise DeviceError(
                _("cannot read {file}: {error} (use mp4, mkv, mov or webm)").format(
                    file=self._source, error=exc
                )
            ) from exc
        if not container.streams.video:
            container.close()
            raise DeviceError(_("{file} has no video stream").format(file=self._source))
        return container

    def run(self) -> VideoResult:
        import av

        suffix = self._output.suffix.lower()
        if suffix not in COPYABLE_AUDIO:
            raise VCamSwapError(
                _("output {file}: use .mp4, .mkv, .mov or .webm").format(file=self._output.name)
            )
        refuse_same_file(self._source, self._output)
        folder = self._output.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise VCamSwapError(
                _(
                    "cannot write {file}: the folder {folder} does not exist or is not writable"
                ).format(file=self._output, folder=folder)
            )
        source = self._open_input()
        partial = self._output.with_name(f".{self._output.stem}.part{self._output.suffix}")
        try:
            # MP4/MOV drop tags they do not know unless asked to keep them.
            options = (
                {"movflags": "+use_metadata_tags"} if suffix in (".mp4", ".mov", ".m4v") else {}
            )
            out = self._open_output(partial, options)
        except (av.error.FFmpegError, OSError) as exc:
            discard(partial, source.close)
            raise (
                write_error(self._output, exc)
                if isinstance(exc, OSError)
                else VCamSwapError(f"cannot write {self._output}: {exc}")
            ) from exc
        try:
            result = self._transcode(source, out)
            out.close()  # writes the index: a full disk shows here too
            if result.swapped_frames == 0:
                raise FaceError(
                    _("no face found in any frame of {file}; nothing written").format(
                        file=self._source
                    )
                )
            if self._finish is not None:
                try:
                    self._finish(partial)
                except VCamSwapError as exc:
                    raise VCamSwapError(
                        _("{file}: not written: {error}").format(file=self._output, error=exc)
                    ) from exc
            os.replace(partial, self._output)
        except BaseException as exc:
            self._stop.set()
            discard(partial, out.close, source.close)
            if isinstance(exc, OSError):
                raise write_error(self._output, exc) from exc
            raise
        source.close()
        return result

    def _open_output(self, partial: Path, options: dict[str, str]) -> Any:
        import av

        return av.open(str(partial), mode="w", options=options)

    def _transcode(self, source: Any, out: Any) -> VideoResult:  # noqa: PLR0915 - one pipeline
        import av

        vin = source.streams.video[0]
        vin.thread_type = "AUTO"
        ain = source.streams.audio[0] if source.streams.audio else None
        rate = vin.average_rate or vin.guessed_rate or Fraction(30)
        self._check_every = max(1, round(float(rate)))
        out.metadata.update(metadata.container_tags())
        choice = self._options.encoder
        if choice == "auto":
            codec = pick_encoder(
                self._options.codec,
                vin.codec_context.width // 2 * 2,
                vin.codec_context.height // 2 * 2,
            )
        else:
            codec = choice or ENCODERS.get(self._options.codec, self._options.codec)
        if codec not in av.codecs_available:
            raise VCamSwapError(
                _(
                    "encoder {codec} is not available in this FFmpeg build; leave --encoder out "
                    "for the software encoder"
                ).format(codec=repr(codec))
            )
        vout = out.add_stream(codec, rate=rate)
        vout.width = vin.codec_context.width // 2 * 2
        vout.height = vin.codec_context.height // 2 * 2
        vout.pix_fmt = "yuv420p"
        vout.options = (
            {"crf": str(self._options.crf)}
            if codec.startswith("lib")
            else {"cq": str(self._options.crf)}
            if "nvenc" in codec
            else {}
        )
        if "rotate" in vin.metadata:
            vout.metadata["rotate"] = vin.metadata["rotate"]
        audio_mode, aout = "none", None
        if ain is not None:
            allowed = COPYABLE_AUDIO[self._output.suffix.lower()]
            if allowed is None or ain.codec_context.name in allowed:
                aout, audio_mode = out.add_stream_from_template(ain), "copy"
            else:
                encoder = AUDIO_ENCODER.get(self._output.suffix.lower(), "aac")
                aout = out.add_stream(encoder, rate=ain.codec_context.sample_rate or 48000)
                audio_mode = f"re-encoded to {encoder}"
        total = vin.frames or (
            int(float(source.duration / av.time_base) * float(rate)) if source.duration else None
        )
        decoded: queue.Queue[Any] = queue.Queue(QUEUE)
        processed: queue.Queue[Any] = queue.Queue(QUEUE)
        workers = [
            threading.Thread(
                target=self._guard(self._decode, source, vin, ain, decoded),
                name="vcamswap-decode",
                daemon=True,
            ),
            threading.Thread(
                target=self._guard(self._process, decoded, processed),
                name="vcamswap-process",
                daemon=True,
            ),
        ]
        for worker in workers:
            worker.start()
        frames = 0
        started = time.monotonic()
        resampler_pts = 0
        try:
            while True:
                kind, item = _get(processed, self._stop)
                if kind == "end":
                    break
                if kind == "video":
                    frame = av.VideoFrame.from_ndarray(
                        item[: vout.height, : vout.width], format="bgr24"
                    )
                    frame.pts = frames
                    for packet in vout.encode(frame):
                        out.mux(packet)
                    frames += 1
                    if self._progress:
                        self._progress(frames, total, time.monotonic() - started)
                elif audio_mode == "copy":
                    item.stream = aout
                    out.mux(item)
                elif aout is not None:
                    for audio_frame in item.decode():
                        audio_frame.pts = resampler_pts
                        resampler_pts += audio_frame.samples
                        for packet in aout.encode(audio_frame):
                            out.mux(packet)
            for packet in vout.encode():
                out.mux(packet)
            if aout is not None and audio_mode != "copy":
                for packet in aout.encode():
                    out.mux(packet)
        except _StoppedError:
            pass
        finally:
            self._stop.set()
            for worker in workers:
                worker.join(2.0)
        if self._errors:
            error = self._errors[0]
            if isinstance(error, OSError):
                raise write_error(self._output, error) from error
            raise error
        return VideoResult(frames, self._swapped, float(rate), audio_mode, self._guarded)

    def _guard(self, target: Callable[..., None], *args: Any) -> Callable[[], None]:
        def run() -> None:
            try:
                target(*args)
            except _StoppedError:
                return
            except BaseException as exc:
                self._errors.append(exc)
                self._stop.set()

        return run

    def _in_range(self, seconds: float) -> bool:
        start, end = self._options.start, self._options.end
        return (start is None or seconds >= start) and (end is None or seconds < end)

    def _decode(self, source: Any, vin: Any, ain: Any, out: queue.Queue[Any]) -> None:
        streams = [vin] + ([ain] if ain is not None else [])
        offsets: dict[int, int] = {}
        for packet in source.demux(*streams):
            # The empty packet at the end (dts None) flushes a video decoder's last frames.
            if packet.stream.type == "audio":
                if packet.dts is None:
                    continue
                seconds = float(packet.pts * packet.time_base) if packet.pts is not None else 0.0
                if self._in_range(seconds):
                    shift = offsets.setdefault(packet.stream.index, packet.pts)
                    packet.pts -= shift
                    packet.dts -= shift
                    _put(out, ("audio", packet), self._stop)
                continue
            for frame in packet.decode():
                t = float(frame.time) if frame.time is not None else 0.0
                if self._options.end is not None and t >= self._options.end:
                    continue
                if self._in_range(t):
                    _put(out, ("video", frame.to_ndarray(format="bgr24")), self._stop)
        _put(out, ("end", None), self._stop)

    def _process(self, inbox: queue.Queue[Any], outbox: queue.Queue[Any]) -> None:
        self._processor.start()
        try:
            seq = 0
            while True:
                kind, item = _get(inbox, self._stop)
                if kind == "video":
                    frame = Frame(np.ascontiguousarray(item), seq, 0.0)
                    if seq % self._check_every == 0:  # the first frame, then ~1 per second
                        screen(self._content, frame.image, f"{self._source} at frame {seq}")
                    seq += 1
                    result = guarded_process(self._processor, self._policy, frame)
                    self._swapped += int(result.swapped)
                    self._guarded += int(result.guarded is not None)
                    item = result.image
                _put(outbox, (kind, item), self._stop)
                if kind == "end":
                    return
        finally:
            self._processor.close()
