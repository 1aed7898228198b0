"""The blurhash placeholder a client paints while a rendition loads."""

from __future__ import annotations

import blurhash
import pyvips
from PIL import Image

# Blurhash's cost grows with pixels times components; its output is a blur anyway.
SAMPLE_BOX = 32
LONG_SIDE_COMPONENTS = 4
SHORT_SIDE_COMPONENTS = 3
WHITE = 255


def components(width: int, height: int) -> tuple[int, int]:
    """More components along the longer side: (x, y)."""
    if width >= height:
        return LONG_SIDE_COMPONENTS, SHORT_SIDE_COMPONENTS
    return SHORT_SIDE_COMPONENTS, LONG_SIDE_COMPONENTS


def blurhash_of(image: pyvips.Image) -> str:
    """The blurhash of an 8-bit sRGB image (transparency shows as white)."""
    sample = image.thumbnail_image(SAMPLE_BOX, height=SAMPLE_BOX)
    if sample.hasalpha():
        sample = sample.flatten(background=[WHITE])
    rgb = Image.frombytes("RGB", (sample.width, sample.height), sample.write_to_memory())
    x, y = components(image.width, image.height)
    hashed: str = blurhash.encode(rgb, x, y)
    return hashed
