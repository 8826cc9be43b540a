"""Swap faces in one image file; the output carries visible and machine-readable labels."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from vcamswap.devices.imagefile import DEFAULT_MAX_PIXELS, load_image
from vcamswap.errors import FaceError, VCamSwapError
from vcamswap.i18n import _
from vcamswap.offline import metadata
from vcamswap.offline.output import discard, new_temp_file, refuse_same_file, write_error
from vcamswap.pipeline.guarding import guarded_process
from vcamswap.pipeline.protocols import FailurePolicy, FrameProcessor
from vcamswap.safety.content import ContentClassifier, screen
from vcamswap.types import BgrImage, Frame

IMAGE_SUFFIXES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}


def _open_new(path: Path) -> BinaryIO:
    return path.open("wb")


def write_labelled_image(
    image: BgrImage, path: Path, opener: Callable[[Path], BinaryIO] = _open_new
) -> None:
    """Write ``image`` to ``path`` (through a hidden temp file, with the user's umask) with the
    synthetic-media metadata. A failed write (a full disk) leaves nothing behind."""
    from PIL import Image, PngImagePlugin

    kind = IMAGE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise VCamSwapError(
            _("cannot write {file}: use .jpg, .png or .webp").format(file=path.name)
        )
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
    temp = new_temp_file(path)
    try:
        with opener(temp) as handle:
            picture.save(handle, kind, **options)
        os.replace(temp, path)
    except OSError as exc:
        discard(temp)
        raise write_error(path, exc) from exc
    except BaseException:
        discard(temp)
        raise


def swap_image(
    processor: FrameProcessor,
    policy: FailurePolicy,
    source: Path,
    output: Path,
    content: ContentClassifier | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    finish: Callable[[Path], None] | None = None,
) -> int:
    """Swap ``source`` into ``output``; returns the number of faces swapped. ``content``
    checks the input first: a flagged image stops here and nothing is written. The input is
    never the output, and is read only when within ``max_pixels``. ``finish`` is given the
    written file (the C2PA signer)."""
    refuse_same_file(source, output)
    image = load_image(source, max_pixels)
    screen(content, image, f"the input {source}")
    processor.start()
    try:
        frame = guarded_process(processor, policy, Frame(image, 0, 0.0))
    finally:
        processor.close()
    if not frame.swapped:
        raise FaceError(
            _(
                "no face found in {file}: nothing to swap (a frontal face at least 80 pixels "
                "wide works best)"
            ).format(file=source)
        )
    if finish is None:
        write_labelled_image(frame.image, output)
        return max(1, len(frame.regions))
    staged = output.with_name(f".{output.stem}.unsigned{output.suffix}")
    try:
        write_labelled_image(frame.image, staged)
        finish(staged)  # the C2PA manifest; a failure leaves no output behind
        os.replace(staged, output)
    except VCamSwapError as exc:
        discard(staged)
        raise VCamSwapError(
            _("{file}: not written: {error}").format(file=output, error=exc)
        ) from exc
    except BaseException:
        discard(staged)
        raise
    return max(1, len(frame.regions))
