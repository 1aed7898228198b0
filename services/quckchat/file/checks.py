"""What the file service learns from a file's bytes, in one read of them: the type they really
are, their SHA-256, and the scanner's verdict."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from quckchat.core.objects import ObjectStore
from quckchat.core.sniff import SNIFF_BYTES, content_type_of
from quckchat.file.scanning import Scanner, Verdict


@dataclass(frozen=True)
class Checked:
    content_type: str
    sha256: str
    verdict: Verdict


async def check(objects: ObjectStore, scanner: Scanner, key: str) -> Checked:
    """Read the object once, hashing it and feeding the scanner (ScanFailed: no verdict)."""
    digest = hashlib.sha256()
    head = bytearray()
    async with contextlib.aclosing(objects.stream(key)) as stream:

        async def seen() -> AsyncGenerator[bytes, None]:
            async for chunk in stream:
                digest.update(chunk)
                if len(head) < SNIFF_BYTES:
                    head.extend(chunk[: SNIFF_BYTES - len(head)])
                yield chunk

        async with contextlib.aclosing(seen()) as chunks:
            verdict = await scanner.scan(chunks)
            # A scanner that stops early (or none) still leaves the hash to finish.
            async for _ in chunks:
                pass
    content_type = await asyncio.to_thread(content_type_of, bytes(head))
    return Checked(content_type, digest.hexdigest(), verdict)
