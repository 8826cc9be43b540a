"""Swap faces in one image file; the output carries visible and machine-readable labels."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from vcamswap.errors import FaceError, VCamSwapError
from vcamswap.offline import metadata
from vcamswap.pipeline.guarding import guarded_process
from vcamswap.pipeline.protocols import FailurePolicy, FrameProcessor
from vcamswap.processors.faces import read_image
from vcamswap.safety.content import ContentClassifier, screen
from vcamswap.types import BgrImage, Frame

IMAGE_SUFFIXES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}


def write_labelled_image(image: BgrImage, path: Path) -> None:
    """Write ``image`` to ``path`` (through a temp file) with the synthetic-media metadata."""
    from PIL import Image, PngImagePlugin

    kind = IMAGE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise VCamSwapError(f"cannot write {path.name}: use .jpg, .png or .webp")
    picture = Image.fromarray(np.ascontiguousarray(image[:, :, ::-1]))
    exif = Image.Exif()
    exif[0x010E] = metadata.DESCRIPTION  # ImageDescription
    exif[0x0131] = metadata.SOFTWARE  # Software
    options: dict[str, object] = {"exif": exif.tobytes(), "xmp": metadata.xmp_packet()}
    if kind == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", metadata.SOFTWARE)
        info.add_text("Description", metadata.DESCRIPTION)
        info.add_text("synthetic_media", "true")
        info.add_itxt("XML:com.adobe.xmp", metadata.xmp_packet().decode("utf-8"))
        options["pnginfo"] = info
    elif kind == "JPEG":
        options["quality"] = 95
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        picture.save(tmp, kind, **options)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def swap_image(processor: FrameProcessor, policy: FailurePolicy, source: Path,
               output: Path, content: ContentClassifier | None = None) -> int:
    """Swap ``source`` into ``output``; returns the number of faces swapped. ``content``
    checks the input first: a flagged image stops here and nothing is written."""
    image = read_image(source)
    screen(content, image, f"the input {source}")
    processor.start()
    try:
        frame = guarded_process(processor, policy, Frame(image, 0, 0.0))
    finally:
        processor.close()
    if not frame.swapped:
        raise FaceError(f"no face found in {source}: nothing to swap (a frontal face at least "
                        "80 pixels wide works best)")
    write_labelled_image(frame.image, output)
    return max(1, len(frame.regions))
