"""The one image-file loader. Every entry point that reads a photo (`swap`, `--face`,
`faces add`, `content-check`, `ctl face`, the face library) reads it here, with a pixel limit
checked from the file's header before anything is decoded: a 30 KB PNG may declare
40000x40000 pixels and decode to gigabytes."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np

from vcamswap.errors import VCamSwapError
from vcamswap.i18n import _
from vcamswap.types import BgrImage

DEFAULT_MAX_PIXELS = 50_000_000
"""The default of ``safety.max_image_megapixels`` (50 MP: a 8660x5773 photo)."""
CEILING_PIXELS = 150_000_000
"""The highest limit the setting accepts (below Pillow's own bomb refusal at ~179 MP)."""
SETTING = "safety.max_image_megapixels"


class ImageFileError(VCamSwapError):
    """An image file is missing, unreadable, not an image, or over the pixel limit."""


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) as the file's header declares them, without decoding the pixels;
    None when the bytes are not an image format Pillow knows; (-1, -1) when the size is over
    Pillow's own bomb limit (about 179 MP), which is over any limit this project accepts."""
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as picture:
                width, height = picture.size
                return int(width), int(height)
        except Image.DecompressionBombError:
            return _plugin_size(data)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            return None


def _plugin_size(data: bytes) -> tuple[int, int]:
    """The declared size of a file over Pillow's own bomb limit (which ``Image.open``
    refuses before telling the size): the format plugin alone reads the header."""
    from PIL import Image

    Image.init()
    for factory, accept in Image.OPEN.values():
        if accept is not None and not accept(data[:16]):
            continue
        try:
            picture = factory(io.BytesIO(data), "")
        except (OSError, ValueError, SyntaxError, TypeError, IndexError):
            continue
        width, height = picture.size
        return int(width), int(height)
    return (-1, -1)


def check_pixels(path: Path, size: tuple[int, int], max_pixels: int) -> None:
    """ImageFileError when ``size`` is over ``max_pixels`` (or unknown because huge)."""
    width, height = size
    limit = f"{max_pixels / 1e6:g} MP"
    if width < 0:
        raise ImageFileError(
            _(
                "{file} declares an image far over the {limit} limit for images ({setting}): "
                "not read; scale it down first"
            ).format(file=path, limit=limit, setting=SETTING)
        )
    if width * height > max_pixels:
        raise ImageFileError(
            _(
                "{file} is {width}x{height} pixels ({megapixels} MP), over the {limit} limit "
                "for images ({setting}): not read; scale it down first"
            ).format(
                file=path,
                width=width,
                height=height,
                megapixels=f"{width * height / 1e6:.0f}",
                limit=limit,
                setting=SETTING,
            )
        )


def load_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> BgrImage:
    """Read ``path`` as a BGR image. The size comes from the header of the very bytes that are
    decoded, so a file swapped in between cannot pass the check."""
    if path.is_dir():
        raise ImageFileError(
            _("{file} is a folder: name one image file in it (jpg, png or webp)").format(file=path)
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImageFileError(
            _("{file} does not exist: check the path (a face photo: jpg, png or webp)").format(
                file=path
            )
        ) from exc
    except PermissionError as exc:
        raise ImageFileError(
            _("cannot read {file}: permission denied; make it readable by this user").format(
                file=path
            )
        ) from exc
    except OSError as exc:
        raise ImageFileError(
            _("cannot read {file}: {error}").format(file=path, error=exc.strerror or exc)
        ) from exc
    size = header_size(data)
    if size is None:
        raise ImageFileError(
            _("{file} is not a readable image (use jpg, png or webp)").format(file=path)
        )
    check_pixels(path, size, max_pixels)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        image = None
    if image is None:
        raise ImageFileError(
            _("{file} is not a readable image (corrupt or truncated; use jpg, png or webp)").format(
                file=path
            )
        )
    check_pixels(path, (image.shape[1], image.shape[0]), max_pixels)
    return np.ascontiguousarray(image)


def check_image_file(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """The header check alone (reads a few KB): ImageFileError when ``path`` is over the
    limit. Unreadable files pass: the loader gives its own message when they are read."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return
    size = header_size(head)
    if size is not None:
        check_pixels(path, size, max_pixels)
