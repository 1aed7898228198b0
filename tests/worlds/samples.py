"""Files the media tests and the end-to-end files story process, made on the spot: images with
EXIF, hostile headers, PDFs, office zips and clips from ffmpeg's lavfi sources."""

from __future__ import annotations

import struct
import subprocess
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pillow_heif
from PIL import Image

from quckchat.media.processing.exif import GPS_POINTER
from tests.worlds.files import pdf as pdf  # PDFs are uploaded by other suites too

ORIENTATION = 0x0112
MAKE = 0x010F
FFMPEG = Path("/usr/bin/ffmpeg")
LATITUDE = (37.0, 46.0, 30.0)
RED, BLUE = (220, 20, 20), (20, 20, 220)


def exif(*, orientation: int | None = None, gps: bool = False) -> bytes:
    """An EXIF block with a camera make, and on request an orientation and GPS coordinates
    (bytes: Pillow drops the GPS IFD of an Exif object it writes into a TIFF)."""
    block = Image.Exif()
    block[MAKE] = "QuckCam"
    if orientation is not None:
        block[ORIENTATION] = orientation
    if gps:
        location = block.get_ifd(GPS_POINTER)
        location.update(
            {0: b"\x02\x03\x00\x00", 1: "N", 2: LATITUDE, 3: "W", 4: (122.0, 25.0, 10.0)}
        )
    return block.tobytes()


def halves(width: int, height: int) -> Image.Image:
    """Left half red, right half blue: where they end up shows how the image was turned."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    return image


def image_file(path: Path, image: Image.Image, **save: Any) -> Path:
    if path.suffix == ".heic":
        pillow_heif.register_heif_opener()
    image.save(path, **save)
    return path


def heic_encoder() -> bool:
    return bool(pillow_heif.libheif_info()["encoders"].get("x265"))


def frames(path: Path, colours: list[tuple[int, int, int]]) -> Path:
    """An animation (GIF or WebP, from the suffix) with one frame per colour."""
    first, *rest = [Image.new("RGB", (200, 100), c) for c in colours]
    first.save(path, save_all=True, append_images=rest, duration=100, loop=0)
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with a few bytes of image data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def zipped(path: Path, parts: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return path


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
P = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
TEXT_NS = 'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
OFFICE_NS = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'


def docx_xml(*paragraphs: str) -> str:
    """word/document.xml; each paragraph split into two runs, as Word does mid-word."""
    body = "".join(
        f"<w:p><w:r><w:t>{p[:3]}</w:t></w:r><w:r><w:t>{p[3:]}</w:t></w:r>"
        "<w:r><w:delText>deletedword</w:delText></w:r></w:p>"
        for p in paragraphs
    )
    return f"<w:document {W}><w:body>{body}</w:body></w:document>"


def xlsx_parts(*strings: str) -> dict[str, str | bytes]:
    shared = "".join(f"<si><t>{s}</t></si>" for s in strings)
    sheet = (
        f'<worksheet {S}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
        '<c r="B1"><v>4242</v></c><c r="C1" t="inlineStr"><is><t>inlinecell</t></is></c>'
        "</row></sheetData></worksheet>"
    )
    return {
        "xl/sharedStrings.xml": f'<sst {S} count="{len(strings)}">{shared}</sst>',
        "xl/worksheets/sheet1.xml": sheet,
    }


def pptx_parts(*slides: str) -> dict[str, str | bytes]:
    return {
        f"ppt/slides/slide{i}.xml": f"<p:sld {P} {A}><p:cSld><p:spTree><p:sp><p:txBody>"
        f"<a:p><a:r><a:t>{text}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
        for i, text in enumerate(slides, start=1)
    }


def odf_content(*paragraphs: str) -> dict[str, str | bytes]:
    body = "".join(f"<text:p>{p[:3]}<text:span>{p[3:]}</text:span></text:p>" for p in paragraphs)
    return {
        "mimetype": "application/vnd.oasis.opendocument.text",
        "content.xml": f"<office:document-content {OFFICE_NS} {TEXT_NS}><office:body>"
        f"<office:text>{body}</office:text></office:body></office:document-content>",
    }


def clip(path: Path, source: str, *extra: str) -> Path:
    """An H.264 MP4 from a lavfi filter graph (testsrc, colour sources)."""
    subprocess.run(
        [
            str(FFMPEG),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            source,
            *extra,
            "-pix_fmt",
            "yuv420p",
            "-y",
            str(path),
        ],
        check=True,
    )
    return path
