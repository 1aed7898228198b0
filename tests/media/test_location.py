"""Location: found in EXIF wherever a format keeps it, and removed from the sanitized original
with nothing else changed."""

from __future__ import annotations

import io
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image

from quckchat.media.processing import Limits, Processed, Rendition, process
from quckchat.media.processing.exif import GPS_POINTER, has_location, without_location
from tests.media.test_images import NEEDS_ENCODER
from tests.worlds import samples


def sanitized(processed: Processed) -> Rendition | None:
    return next((r for r in processed.renditions if r.kind == "sanitized"), None)


def scan_data(jpeg: bytes) -> bytes:
    """Everything from the first start-of-scan marker on: the compressed pixels."""
    return jpeg[jpeg.index(b"\xff\xda") :]


def test_a_jpeg_with_gps_gets_a_sanitized_original_with_only_the_gps_gone(tmp_path: Path) -> None:
    block = samples.exif(orientation=6, gps=True)
    path = samples.image_file(tmp_path / "here.jpg", samples.halves(600, 300), exif=block)
    original = path.read_bytes()

    processed = process(path, "image/jpeg")

    assert processed.had_location
    clean = sanitized(processed)
    assert clean is not None
    assert (clean.content_type, clean.width, clean.height) == ("image/jpeg", 300, 600)
    assert len(clean.data) == len(original)
    assert scan_data(clean.data) == scan_data(original)
    left = Image.open(io.BytesIO(clean.data)).getexif()
    assert GPS_POINTER not in left
    assert not left.get_ifd(GPS_POINTER)
    assert left[samples.MAKE] == "QuckCam"
    assert left[samples.ORIENTATION] == 6
    # Only bytes of the EXIF block differ, and the coordinates are nowhere left.
    changed = [i for i, (a, b) in enumerate(zip(original, clean.data, strict=True)) if a != b]
    app1 = original.index(b"Exif\x00\x00")
    assert changed and app1 < changed[0] and changed[-1] < app1 + len(block)
    assert not has_location(clean.data[app1 : app1 + len(block)])


def test_a_jpeg_whose_exif_holds_no_gps_gets_no_sanitized_copy(tmp_path: Path) -> None:
    path = samples.image_file(
        tmp_path / "nowhere.jpg", samples.halves(60, 30), exif=samples.exif(orientation=1)
    )

    processed = process(path, "image/jpeg")

    assert not processed.had_location
    assert sanitized(processed) is None


@pytest.mark.parametrize(("suffix", "content_type"), [("png", "image/png"), ("webp", "image/webp")])
def test_png_and_webp_lose_their_gps_in_place_too(
    tmp_path: Path, suffix: str, content_type: str
) -> None:
    save = {"lossless": True} if suffix == "webp" else {}
    path = samples.image_file(
        tmp_path / f"here.{suffix}", samples.halves(80, 40), exif=samples.exif(gps=True), **save
    )

    processed = process(path, content_type)

    assert processed.had_location
    clean = sanitized(processed)
    assert clean is not None and clean.content_type == content_type
    assert len(clean.data) == len(path.read_bytes())
    image = Image.open(io.BytesIO(clean.data))
    image.load()  # a PNG chunk with a wrong CRC would fail here
    assert not image.getexif().get_ifd(GPS_POINTER)
    assert image.getexif()[samples.MAKE] == "QuckCam"
    assert image.tobytes() == Image.open(path).tobytes()


def test_a_tiff_reports_its_location_and_leaves_the_choice_to_the_caller(tmp_path: Path) -> None:
    path = samples.image_file(
        tmp_path / "here.tiff", samples.halves(80, 40), exif=samples.exif(gps=True)
    )

    processed = process(path, "image/tiff")

    assert processed.had_location and not processed.generic
    assert sanitized(processed) is None
    assert {r.kind for r in processed.renditions} == {"thumbnail", "preview"}


@NEEDS_ENCODER
def test_a_heic_with_gps_gets_a_sanitized_original_with_only_the_gps_gone(tmp_path: Path) -> None:
    path = samples.image_file(
        tmp_path / "here.heic",
        samples.halves(80, 40),
        exif=samples.exif(orientation=6, gps=True),
    )
    original = path.read_bytes()

    processed = process(path, "image/heic")

    assert processed.had_location
    clean = sanitized(processed)
    assert clean is not None and clean.content_type == "image/heic"
    assert (clean.width, clean.height) == (40, 80)
    assert len(clean.data) == len(original)
    heif = pillow_heif.open_heif(io.BytesIO(clean.data))
    assert not has_location(heif.info["exif"])
    kept = Image.Exif()
    kept.load(heif.info["exif"])
    assert kept[samples.MAKE] == "QuckCam" and not kept.get_ifd(GPS_POINTER)
    assert heif[heif.primary_index].data == pillow_heif.open_heif(path)[0].data
    changed = [i for i, (a, b) in enumerate(zip(original, clean.data, strict=True)) if a != b]
    block = pillow_heif.open_heif(path).info["exif"]
    at = original.index(block)
    assert changed and at < changed[0] and changed[-1] < at + len(block)


def test_an_image_too_large_to_preview_still_reports_its_location(tmp_path: Path) -> None:
    path = samples.image_file(
        tmp_path / "wide.jpg", samples.halves(400, 300), exif=samples.exif(gps=True)
    )

    processed = process(path, "image/jpeg", Limits(max_pixels=1000))

    assert processed.generic and processed.had_location


def test_a_gps_ifd_with_only_its_version_is_no_location() -> None:
    block = Image.Exif()
    block.get_ifd(GPS_POINTER)[0] = b"\x02\x03\x00\x00"
    reread = Image.Exif()
    reread.load(block.tobytes())
    assert reread.get_ifd(GPS_POINTER)  # the IFD is there, with its version alone

    assert not has_location(block.tobytes())
    assert without_location(block.tobytes()) is None


@pytest.mark.parametrize(
    "block",
    [b"", b"Exif\x00\x00", b"Exif\x00\x00II*\x00\xff\xff\xff\x7f", b"MM\x00*" + b"\xff" * 8],
)
def test_a_malformed_exif_block_is_no_location(block: bytes) -> None:
    assert not has_location(block)
    assert without_location(block) is None
