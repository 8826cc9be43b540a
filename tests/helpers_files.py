"""Test files for the offline-job and image-loader tests: a PNG that declares a huge picture
(a decompression bomb) and a short clip."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import av
import numpy as np

from vcamswap.samples import animate, sample_photo
from vcamswap.types import Frame


def bomb_png(path: Path, width: int = 40000, height: int = 40000) -> Path:
    """A valid-looking PNG header declaring ``width`` x ``height`` RGB pixels with a few bytes
    of data: decoders that trust the header allocate gigabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 4096)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )
    return path


def small_clip(path: Path, frames: int = 24, size: tuple[int, int] = (320, 240)) -> Path:
    photo = sample_photo("astronaut")
    with av.open(str(path), mode="w") as out:
        video = out.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(animate(photo, index, frames, size), format="bgr24")
            frame.pts = index
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    return path


class InvertingProcessor:
    """Says it swapped a face in every frame (inverts the picture): no model, no detector."""

    def start(self) -> None:
        return None

    def process(self, frame: Frame) -> Frame:
        return frame.with_image(np.ascontiguousarray(255 - frame.image), swapped=True)

    def close(self) -> None:
        return None
