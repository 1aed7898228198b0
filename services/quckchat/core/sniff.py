"""The content type of a file, told by its first bytes (libmagic), not by what a client says."""

from __future__ import annotations

import magic

# Enough for libmagic to look inside a zip (an office document) or past a long header.
SNIFF_BYTES = 64 * 1024
UNKNOWN = "application/octet-stream"


def content_type_of(head: bytes) -> str:
    """libmagic's MIME type of the file that starts with `head`."""
    if not head:
        return "application/x-empty"
    found = magic.from_buffer(head, mime=True)
    return found.lower() if isinstance(found, str) and "/" in found else UNKNOWN
