"""HEIC and HEIF through pillow-heif (Debian's libheif with libde265 has no peer in the libvips
that pyvips-binary ships, which lacks HEVC). libheif decodes the whole primary image, so its
memory is bounded only by the subprocess's RLIMIT_AS and the max_pixels check before decoding.
"""

from __future__ import annotations

from pathlib import Path

import pillow_heif
import pyvips

from quckchat.media.processing.exif import has_location
from quckchat.media.processing.limits import Limits
from quckchat.media.processing.renditions import renditions_of
from quckchat.media.processing.results import Processed, describe, generic


def _vips(frame: pillow_heif.HeifImage) -> pyvips.Image:
    """The decoded frame as a libvips image, without a copy when its rows are packed."""
    width, height = frame.size
    bands = len(frame.mode)
    if frame.stride == width * bands:
        image = pyvips.Image.new_from_memory(frame.data, width, height, bands, "uchar")
    else:
        packed = frame.to_pillow().tobytes()
        image = pyvips.Image.new_from_memory(packed, width, height, bands, "uchar")
    return image.copy(interpretation="srgb" if bands >= 3 else "b-w")


def process_heic(path: Path, limits: Limits, kind: str) -> Processed:
    """Renditions of the primary image (libheif has already applied its rotation and mirror)."""
    try:
        heif = pillow_heif.open_heif(path, convert_hdr_to_8bit=True)
    except (ValueError, OSError, RuntimeError) as error:
        return generic(f"broken image: {describe(error, path)}")
    width, height = heif.size
    exif = heif.info.get("exif")
    located = isinstance(exif, bytes) and has_location(exif)
    if width * height > limits.max_pixels:
        return generic(
            f"too many pixels: {width}x{height} over {limits.max_pixels}", had_location=located
        )
    try:
        renditions, placeholder = renditions_of(_vips(heif[heif.primary_index]), kind)
    except (ValueError, OSError, RuntimeError, pyvips.Error) as error:
        return generic(f"broken image: {describe(error, path)}", had_location=located)
    return Processed(renditions, width, height, placeholder, had_location=located)
