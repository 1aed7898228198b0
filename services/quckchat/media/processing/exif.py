"""Location in EXIF: whether a block holds GPS coordinates, and the same block with them gone.

An EXIF block is a small TIFF structure (optionally after the `Exif\\0\\0` of a JPEG's APP1).
Its GPS IFD is removed in place, so the block keeps its length and every other offset in it
stays valid: the GPSInfo entry leaves IFD0 (the entries after it move up by one), and the bytes
of the GPS IFD and of its values are zeroed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

EXIF_HEADER = b"Exif\x00\x00"
GPS_POINTER = 0x8825
GPS_VERSION = 0x0000
ENTRY = 12
# Bytes per value of each TIFF field type; unknown types count as bytes.
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}


class MalformedExif(ValueError):
    """The block is not a TIFF structure this module can follow."""


@dataclass(frozen=True)
class Entry:
    at: int  # where the 12-byte entry starts
    tag: int
    type: int
    count: int
    value: int  # the value itself when it fits in 4 bytes, else where it is

    @property
    def size(self) -> int:
        return TYPE_SIZES.get(self.type, 1) * self.count


class Tiff:
    """Reads the integers of a TIFF structure in its byte order, bounds-checked."""

    def __init__(self, data: bytes | bytearray) -> None:
        self.data = data
        if data[:4] == b"II*\x00":
            self.order = "<"
        elif data[:4] == b"MM\x00*":
            self.order = ">"
        else:
            raise MalformedExif("no TIFF header")

    def unpack(self, fmt: str, at: int) -> int:
        if at < 0 or at + struct.calcsize(fmt) > len(self.data):
            raise MalformedExif(f"offset {at} is outside the block")
        value: int = struct.unpack_from(self.order + fmt, self.data, at)[0]
        return value

    def ifd(self, at: int) -> list[Entry]:
        count = self.unpack("H", at)
        return [self.entry(at + 2 + i * ENTRY) for i in range(count)]

    def entry(self, at: int) -> Entry:
        return Entry(
            at,
            self.unpack("H", at),
            self.unpack("H", at + 2),
            self.unpack("I", at + 4),
            self.unpack("I", at + 8),
        )

    def first_ifd(self) -> int:
        return self.unpack("I", 4)


def _tiff_part(block: bytes | bytearray) -> int:
    """Where the TIFF structure starts in an EXIF block."""
    return len(EXIF_HEADER) if block.startswith(EXIF_HEADER) else 0


def _gps(tiff: Tiff) -> tuple[Entry, list[Entry]] | None:
    """IFD0's GPSInfo entry and the GPS IFD it points to, if any."""
    pointer = next((e for e in tiff.ifd(tiff.first_ifd()) if e.tag == GPS_POINTER), None)
    return None if pointer is None else (pointer, tiff.ifd(pointer.value))


def has_location(block: bytes) -> bool:
    """True when the block's GPS IFD holds more than its version (a malformed block: False)."""
    try:
        found = _gps(Tiff(block[_tiff_part(block) :]))
    except MalformedExif:
        return False
    return found is not None and any(e.tag != GPS_VERSION for e in found[1])


def without_location(block: bytes) -> bytes | None:
    """The block, same length, with its GPS IFD removed; None when it holds no location (or
    the block is too malformed to edit)."""
    if not has_location(block):
        return None
    start = _tiff_part(block)
    data = bytearray(block[start:])
    tiff = Tiff(data)
    try:
        found = _gps(tiff)
        if found is None:
            return None
        pointer, gps_entries = found
        _drop_entry(tiff, data, tiff.first_ifd(), pointer)
    except MalformedExif:
        return None
    for entry in gps_entries:
        if entry.size > 4:
            _zero(data, entry.value, entry.size)
    _zero(data, pointer.value, 2 + len(gps_entries) * ENTRY + 4)
    return block[:start] + bytes(data)


def _zero(data: bytearray, at: int, size: int) -> None:
    end = min(len(data), at + size)
    if 0 <= at < end:
        data[at:end] = bytes(end - at)


def _drop_entry(tiff: Tiff, data: bytearray, ifd_at: int, gone: Entry) -> None:
    """Remove one entry of an IFD in place: later entries and the next-IFD offset move up."""
    count = tiff.unpack("H", ifd_at)
    end = ifd_at + 2 + count * ENTRY + 4
    if end > len(data):
        raise MalformedExif("IFD0 runs past the block")
    data[gone.at : end - ENTRY] = data[gone.at + ENTRY : end]
    data[end - ENTRY : end] = bytes(ENTRY)
    struct.pack_into(tiff.order + "H", data, ifd_at, count - 1)
