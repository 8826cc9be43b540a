"""Clips and the transformations a recording goes through (H.264 at a low bit rate, scaling,
JPEG), for judging the watermark; shared by tests/test_provenance.py and
benchmarks/provenance.py."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np

from vcamswap.samples import animate, sample_photo
from vcamswap.types import BgrImage


def portrait_clip(
    seconds: float, size: tuple[int, int] = (1280, 720), fps: int = 30
) -> list[BgrImage]:
    """Package portraits with head motion, alternating person every second."""
    photos = [sample_photo("astronaut"), sample_photo("grace_hopper")]
    count = int(seconds * fps)
    return [animate(photos[(i // fps) % 2], i, 90, size) for i in range(count)]


def encode(
    frames: list[BgrImage], path: Path | None = None, fps: int = 30, **settings: object
) -> bytes:
    """H.264 (libx264) in MP4; ``bit_rate`` or ``crf`` in ``settings``."""
    import av

    buffer = io.BytesIO()
    with av.open(str(path) if path else buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        if "bit_rate" in settings:
            stream.bit_rate = int(settings["bit_rate"])  # type: ignore[call-overload]
        else:
            stream.options = {"crf": str(settings.get("crf", 20))}
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes() if path else buffer.getvalue()


def decode(data: bytes) -> list[BgrImage]:
    import av

    with av.open(io.BytesIO(data)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def rescaled(image: BgrImage, size: tuple[int, int], back: bool = True) -> BgrImage:
    small: BgrImage = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    if not back:
        return small
    out: BgrImage = cv2.resize(small, (image.shape[1], image.shape[0]), cv2.INTER_LINEAR)
    return out


def jpeg(image: BgrImage, quality: int = 90) -> BgrImage:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    out: BgrImage = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return out


def psnr(a: BgrImage, b: BgrImage) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def package_images() -> list[BgrImage]:
    """Every colour or grey picture shipped in scikit-image's and matplotlib's data folders and
    insightface's sample images (varied scenes: people, animals, text, astronomy, textures)."""
    import importlib.util

    found: list[BgrImage] = []
    for package, folder in (
        ("skimage", "data"),
        ("matplotlib", "mpl-data/sample_data"),
        ("insightface", "data/images"),
    ):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations))) / folder
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
                continue
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None and min(image.shape[:2]) >= 64:
                found.append(image)
    return found


def generated_scenes(count: int, size: tuple[int, int] = (640, 360)) -> list[BgrImage]:
    """Synthetic scenes: noise of several grains, gradients, blocks, flat colours, text."""
    rng = np.random.default_rng(11)
    w, h = size
    out: list[BgrImage] = []
    for i in range(count):
        kind = i % 5
        if kind == 0:
            grain = int(rng.integers(1, 40))
            small = rng.integers(0, 256, (max(1, h // grain), max(1, w // grain), 3), np.uint8)
            out.append(cv2.resize(small, size, interpolation=cv2.INTER_CUBIC))
        elif kind == 1:
            ramp = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
            out.append(np.broadcast_to(ramp * rng.uniform(0.2, 1.0, 3), (h, w, 3)).astype(np.uint8))
        elif kind == 2:
            image = np.full((h, w, 3), rng.integers(0, 256, 3), np.uint8)
            for _ in range(12):
                x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
                colour = tuple(int(c) for c in rng.integers(0, 256, 3))
                cv2.rectangle(image, (x, y), (x + int(rng.integers(10, 200)), y + 80), colour, -1)
            out.append(image)
        elif kind == 3:
            out.append(np.full((h, w, 3), rng.integers(0, 256, 3), np.uint8))
        else:
            image = np.full((h, w, 3), 235, np.uint8)
            for row in range(20, h, 24):
                cv2.putText(image, f"line {row} of page {i}", (10, row), 0, 0.6, (20, 20, 20), 1)
            out.append(image)
    return out
