"""Images: renditions that fit and keep their aspect, orientation applied, first frames, no
metadata, a blurhash of the right shape."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import blurhash
import pytest
from PIL import Image

from quckchat.media.processing import Processed, Rendition, process
from tests.worlds import samples
from tests.worlds.samples import BLUE, RED

FORMATS = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "avif": "image/avif",
    "gif": "image/gif",
    "heic": "image/heic",
}
NEEDS_ENCODER = pytest.mark.skipif(
    not samples.heic_encoder(), reason="pillow-heif has no HEVC encoder here to write a HEIC"
)


def by_kind(processed: Processed) -> dict[str, Rendition]:
    return {r.kind: r for r in processed.renditions}


def opened(rendition: Rendition) -> Image.Image:
    image = Image.open(io.BytesIO(rendition.data))
    image.load()
    return image


def riff_chunks(data: bytes) -> list[bytes]:
    """The chunk names of a WebP file."""
    names, at = [], 12
    while at + 8 <= len(data):
        name, size = struct.unpack_from("<4sI", data, at)
        names.append(name)
        at += 8 + size + (size & 1)
    return names


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.convert("RGB").getpixel(xy)
    assert isinstance(value, tuple)
    return value


def close(colour: tuple[int, ...], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 40 for a, b in zip(colour[:3], expected, strict=True))


def assert_webp_without_metadata(rendition: Rendition) -> None:
    assert rendition.content_type == "image/webp"
    assert set(riff_chunks(rendition.data)) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
    image = opened(rendition)
    assert image.format == "WEBP"
    assert (image.width, image.height) == (rendition.width, rendition.height)
    assert not {"exif", "icc_profile", "xmp"} & set(image.info)


@pytest.mark.parametrize(
    "suffix", [pytest.param(s, marks=NEEDS_ENCODER) if s == "heic" else s for s in FORMATS]
)
def test_every_format_gets_a_thumbnail_and_a_preview_that_fit(tmp_path: Path, suffix: str) -> None:
    source = samples.halves(2400, 1200)
    extra = {"exif": samples.exif()} if suffix in {"jpeg", "png", "webp", "tiff"} else {}
    path = samples.image_file(tmp_path / f"wide.{suffix}", source, **extra)

    processed = process(path, FORMATS[suffix])

    assert not processed.generic, processed.reason
    assert (processed.width, processed.height) == (2400, 1200)
    renditions = by_kind(processed)
    assert set(renditions) == {"thumbnail", "preview"}
    assert (renditions["thumbnail"].width, renditions["thumbnail"].height) == (320, 160)
    assert (renditions["preview"].width, renditions["preview"].height) == (1600, 800)
    for rendition in renditions.values():
        assert_webp_without_metadata(rendition)
    # Left stays left: red at the left edge, blue at the right.
    preview = opened(renditions["preview"]).convert("RGB")
    assert close(pixel(preview, (10, 400)), RED)
    assert close(pixel(preview, (1590, 400)), BLUE)


def test_a_small_image_is_never_upscaled(tmp_path: Path) -> None:
    path = samples.image_file(tmp_path / "small.png", samples.halves(200, 100))

    renditions = by_kind(process(path, "image/png"))

    assert (renditions["thumbnail"].width, renditions["thumbnail"].height) == (200, 100)
    assert (renditions["preview"].width, renditions["preview"].height) == (200, 100)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    """Stored 600x300 with Orientation=6 (turn 90 degrees clockwise to show): displayed tall,
    the stored left edge on top."""
    path = samples.image_file(
        tmp_path / "turned.jpg", samples.halves(600, 300), exif=samples.exif(orientation=6)
    )

    processed = process(path, "image/jpeg")

    assert (processed.width, processed.height) == (300, 600)
    preview = by_kind(processed)["preview"]
    assert (preview.width, preview.height) == (300, 600)
    shown = opened(preview).convert("RGB")
    assert close(pixel(shown, (150, 10)), RED)
    assert close(pixel(shown, (150, 590)), BLUE)
    assert (by_kind(processed)["thumbnail"].width, by_kind(processed)["thumbnail"].height) == (
        160,
        320,
    )


@pytest.mark.parametrize("suffix", ["gif", "webp"])
def test_an_animation_is_shown_by_its_first_frame(tmp_path: Path, suffix: str) -> None:
    path = samples.frames(tmp_path / f"moving.{suffix}", [RED, BLUE, BLUE])

    processed = process(path, f"image/{suffix}")

    assert (processed.width, processed.height) == (200, 100)
    for rendition in processed.renditions:
        assert close(pixel(opened(rendition), (100, 50)), RED)


@pytest.mark.parametrize(("width", "height", "x", "y"), [(800, 400, 4, 3), (400, 800, 3, 4)])
def test_the_blurhash_has_more_components_along_the_longer_side(
    tmp_path: Path, width: int, height: int, x: int, y: int
) -> None:
    path = samples.image_file(tmp_path / "hashed.png", samples.halves(width, height))

    hashed = process(path, "image/png").blurhash

    assert hashed is not None and blurhash.is_valid_blurhash(hashed)
    # The first base-83 digit packs the components: (x - 1) + (y - 1) * 9.
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
    assert digits.index(hashed[0]) == (x - 1) + (y - 1) * 9
    assert len(hashed) == 4 + 2 * x * y
    # Decoded, the left of the placeholder is redder than its right.
    small = blurhash.decode(hashed, 8, 8)
    left, right = small.getpixel((1, 4)), small.getpixel((6, 4))
    assert left[0] > right[0] and left[2] < right[2]


@pytest.mark.parametrize(
    ("name", "mode", "colour", "expected"),
    [
        ("alpha.png", "RGBA", (255, 0, 0, 128), (255, 0, 0, 128)),
        ("grey.png", "L", 90, (90, 90, 90, 255)),
        ("deep.png", "I;16", 30000, (117, 117, 117, 255)),
        ("print.jpg", "CMYK", (0, 255, 255, 0), (230, 30, 40, 255)),
    ],
)
def test_any_colour_model_comes_out_as_8_bit_srgb(
    tmp_path: Path, name: str, mode: str, colour: object, expected: tuple[int, int, int, int]
) -> None:
    path = samples.image_file(tmp_path / name, Image.new(mode, (300, 200), colour))  # type: ignore[arg-type]

    processed = process(path, "image/jpeg" if name.endswith(".jpg") else "image/png")

    for rendition in processed.renditions:
        shown = opened(rendition).convert("RGBA").getpixel((150, 100))
        assert isinstance(shown, tuple)
        assert all(abs(a - b) <= 12 for a, b in zip(shown, expected, strict=True)), shown
