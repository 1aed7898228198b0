"""The sanitized original: the uploaded file itself with its EXIF GPS IFD removed, nothing else.

Only the EXIF block changes, in place and at the same length (see `exif`), so the pixel data,
every other segment or chunk and the container's own lengths stay byte for byte as they were.
JPEG (APP1 `Exif`), PNG (`eXIf`, whose CRC is recomputed), WebP (`EXIF`) and HEIF (its `Exif`
item, stored verbatim after `Exif\\0\\0`) are edited this way. TIFF keeps GPS in the file's own
IFDs: for it the result only says `had_location`, and the caller decides (serve renditions
only, or warn).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from quckchat.media.processing.exif import EXIF_HEADER, without_location
from quckchat.media.processing.formats import HEIF, JPEG, PNG, WEBP

SANITIZABLE = frozenset({JPEG, PNG, WEBP, *HEIF})

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG markers that stand alone, without a length: TEM, RST0-7 and SOI.
STANDALONE = {0x01, *range(0xD0, 0xD9)}
TIFF_HEADERS = (b"MM\x00*", b"II*\x00")
# A HEIF Exif item is looked for in the bytes, not in its boxes: a span of at most an APP1's
# size each, and a few of them, so a file full of decoys costs little.
HEIF_EXIF_BYTES = 0xFFFF
HEIF_EXIF_BLOCKS = 8
SOS, EOI, APP1 = 0xDA, 0xD9, 0xE1


def _jpeg_exif(data: bytearray) -> Iterator[tuple[int, int]]:
    """The spans of the APP1 EXIF payloads, among the segments before the scan data."""
    if data[:2] != b"\xff\xd8":
        return
    at = 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker in STANDALONE:
            at += 2
            continue
        if marker in (SOS, EOI):
            return
        end = at + 2 + struct.unpack_from(">H", data, at + 2)[0]
        if marker == APP1 and data.startswith(EXIF_HEADER, at + 4, end):
            yield at + 4, min(end, len(data))
        at = end


def _png_exif(data: bytearray) -> Iterator[tuple[int, int]]:
    """The spans of the data of the `eXIf` chunks."""
    if not data.startswith(PNG_SIGNATURE):
        return
    at = len(PNG_SIGNATURE)
    while at + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        if kind == b"eXIf" and at + 12 + length <= len(data):
            yield at + 8, at + 8 + length
        if kind == b"IEND":
            return
        at += 12 + length


def _webp_exif(data: bytearray) -> Iterator[tuple[int, int]]:
    """The spans of the payloads of the `EXIF` chunks of the RIFF container."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return
    at = 12
    while at + 8 <= len(data):
        kind, length = struct.unpack_from("<4sI", data, at)
        if kind == b"EXIF":
            yield at + 8, min(at + 8 + length, len(data))
        at += 8 + length + (length & 1)


def _heif_exif(data: bytearray) -> Iterator[tuple[int, int]]:
    """The spans of what looks like an EXIF block (`Exif\\0\\0` and a TIFF header), wherever
    in the file: libheif keeps the Exif item's payload as written, in `mdat` or `idat`."""
    at = data.find(EXIF_HEADER)
    for _ in range(HEIF_EXIF_BLOCKS):
        if at < 0:
            return
        tiff = at + len(EXIF_HEADER)
        if bytes(data[tiff : tiff + 4]) in TIFF_HEADERS:
            yield at, min(at + HEIF_EXIF_BYTES, len(data))
        at = data.find(EXIF_HEADER, tiff)


SPANS = {JPEG: _jpeg_exif, PNG: _png_exif, WEBP: _webp_exif, **dict.fromkeys(HEIF, _heif_exif)}


def sanitized(path: Path, content_type: str) -> bytes | None:
    """The file with every EXIF block's GPS IFD removed; None when no block held a location."""
    data = bytearray(path.stat().st_size)
    with path.open("rb") as file:
        file.readinto(data)
    changed = False
    for start, end in list(SPANS[content_type](data)):
        edited = without_location(bytes(data[start:end]))
        if edited is None:
            continue
        data[start:end] = edited
        changed = True
        if content_type == PNG:
            struct.pack_into(">I", data, end, zlib.crc32(data[start - 4 : end]))
    return bytes(data) if changed else None
