"""Images in, renditions out, inside the decoding subprocess.

libvips rather than Pillow: it shrinks JPEG, WebP and AVIF on load and streams PNG and TIFF in
sequential strips, where Pillow decodes a PNG whole. HEIC goes through pillow-heif (see `heic`),
as the libvips of pyvips-binary has no HEVC decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyvips
from PIL import Image

from quckchat.media.processing import heic
from quckchat.media.processing.exif import GPS_POINTER, GPS_VERSION, has_location
from quckchat.media.processing.formats import HEIF, TIFF
from quckchat.media.processing.limits import Limits
from quckchat.media.processing.renditions import PREVIEW_BOX, renditions_of
from quckchat.media.processing.results import Processed, describe, generic

# A truncated file is broken, not an image with a grey bottom.
FAIL_ON = "truncated"
# Pillow only reads TIFF tags here, never pixels; max_pixels is held to libvips' header instead.
Image.MAX_IMAGE_PIXELS = None
# EXIF orientations 5 to 8 turn the image by a quarter: its width and height swap.
QUARTER_TURNS = frozenset({5, 6, 7, 8})


@dataclass(frozen=True)
class Header:
    width: int  # as displayed, after orientation
    height: int
    had_location: bool


def _tiff_location(path: Path) -> bool:
    """TIFF keeps GPS among its own tags, which libvips does not expose; Pillow reads them
    without decoding pixels."""
    with Image.open(path, formats=["TIFF"]) as image:
        gps = image.getexif().get_ifd(GPS_POINTER)
    return any(tag != GPS_VERSION for tag in gps)


def _header(path: Path, content_type: str) -> Header:
    """Size and location of the first frame, from the headers alone."""
    image = pyvips.Image.new_from_file(str(path), access="sequential", fail_on=FAIL_ON)
    fields = image.get_fields()
    width, height = image.width, image.height
    if "orientation" in fields and image.get("orientation") in QUARTER_TURNS:
        width, height = height, width
    if content_type == TIFF:
        located = _tiff_location(path)
    else:
        located = "exif-data" in fields and has_location(image.get("exif-data"))
    return Header(width, height, located)


def process_image(path: Path, content_type: str, limits: Limits, kind: str) -> Processed:
    """Renditions (`kind` the large one) of the first frame, if it has at most max_pixels."""
    if content_type in HEIF:
        return heic.process_heic(path, limits, kind)
    try:
        header = _header(path, content_type)
    except (pyvips.Error, OSError) as error:
        return generic(f"broken image: {describe(error, path)}")
    if header.width * header.height > limits.max_pixels:
        return generic(
            f"too many pixels: {header.width}x{header.height} over {limits.max_pixels}",
            had_location=header.had_location,
        )
    try:
        # libvips over Pillow: a 60 MP PNG peaked at 104 MB RSS here, at 338 MB in Pillow.
        large = pyvips.Image.thumbnail(
            str(path), PREVIEW_BOX, height=PREVIEW_BOX, size="down", fail_on=FAIL_ON
        )
        renditions, placeholder = renditions_of(large, kind)
    except pyvips.Error as error:
        return generic(f"broken image: {describe(error, path)}", had_location=header.had_location)
    return Processed(
        renditions, header.width, header.height, placeholder, had_location=header.had_location
    )
