"""What the file service learns from a file's bytes once they are in, in one read of them: the
type they really are, their SHA-256, and the scanner's verdict."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from quckchat.core.objects import ObjectStore
from quckchat.file.scanning import Scanner, Verdict
from quckchat.file.sniff import SNIFF_BYTES, content_type_of


@dataclass(frozen=True)
class Checked:
    content_type: str
    sha256: str
    verdict: Verdict


async def sniffed_type(objects: ObjectStore, key: str) -> str:
    return content_type_of(await objects.read(key, end=SNIFF_BYTES - 1))


async def check(objects: ObjectStore, scanner: Scanner, key: str) -> Checked:
    """Read the object once, hashing it and feeding the scanner (ScanFailed: no verdict)."""
    digest = hashlib.sha256()
    head = bytearray()

    async def seen() -> AsyncIterator[bytes]:
        async for chunk in objects.stream(key):
            digest.update(chunk)
            if len(head) < SNIFF_BYTES:
                head.extend(chunk[: SNIFF_BYTES - len(head)])
            yield chunk

    chunks = seen()
    verdict = await scanner.scan(chunks)
    # A scanner that stops early (or none) still leaves the hash to finish.
    async for _ in chunks:
        pass
    return Checked(content_type_of(bytes(head)), digest.hexdigest(), verdict)
