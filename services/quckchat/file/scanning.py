"""Malware scanning behind one interface: ClamAV's clamd over TCP, or none (`make run`).

clamd's INSTREAM takes the bytes in length-prefixed chunks and answers `stream: OK` or
`stream: <signature> FOUND`; anything else (a size limit, a broken database) is a failure to
scan, which leaves the file waiting to be scanned again rather than calling it clean.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

# clamd's own default StreamMaxLength; a longer stream is refused, so larger files are not sent.
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
CHUNK = 64 * 1024


class ScanFailed(RuntimeError):
    """The scanner could not give a verdict (unreachable, too large, an error answer)."""


@dataclass(frozen=True)
class Verdict:
    infected: bool
    # The signature found; None when clean.
    signature: str | None = None
    # Whether a scanner looked at all (False where scanning is off).
    scanned: bool = True


class Scanner(Protocol):
    max_bytes: int

    async def scan(self, chunks: AsyncIterator[bytes]) -> Verdict: ...
    async def ping(self) -> None: ...


class NoScanner:
    """Scanning off: every file passes unscanned (said so in its record)."""

    max_bytes = 2**63

    async def scan(self, chunks: AsyncIterator[bytes]) -> Verdict:
        return Verdict(infected=False, scanned=False)

    async def ping(self) -> None:
        return None


class Clamd:
    """clamd at `tcp://host:port`; one connection per scan."""

    def __init__(self, url: str, *, timeout: float = 60.0, max_bytes: int = DEFAULT_MAX_BYTES):
        parts = urlsplit(url)
        if parts.scheme != "tcp" or not parts.hostname or not parts.port:
            raise ValueError(f"a clamd address is tcp://host:port, not {url!r}")
        self.host, self.port = parts.hostname, parts.port
        self.timeout = timeout
        self.max_bytes = max_bytes

    async def _ask(self, command: bytes, chunks: AsyncIterator[bytes] | None = None) -> str:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(b"z" + command + b"\0")
            sent = 0
            if chunks is not None:
                async for data in chunks:
                    for at in range(0, len(data), CHUNK):
                        piece = data[at : at + CHUNK]
                        sent += len(piece)
                        if sent > self.max_bytes:
                            raise ScanFailed(f"more than {self.max_bytes} bytes to scan")
                        writer.write(struct.pack(">I", len(piece)) + piece)
                        await writer.drain()
                writer.write(struct.pack(">I", 0))
            await writer.drain()
            answer = await reader.readuntil(b"\0")
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return answer.rstrip(b"\0").decode("utf-8", "replace")

    async def scan(self, chunks: AsyncIterator[bytes]) -> Verdict:
        try:
            async with asyncio.timeout(self.timeout):
                answer = await self._ask(b"INSTREAM", chunks)
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise ScanFailed(f"clamd at {self.host}:{self.port}: {exc!r}") from exc
        result = answer.removeprefix("stream:").strip()
        if result == "OK":
            return Verdict(infected=False)
        if result.endswith(" FOUND"):
            return Verdict(infected=True, signature=result.removesuffix(" FOUND"))
        raise ScanFailed(f"clamd answered {answer!r}")

    async def ping(self) -> None:
        try:
            async with asyncio.timeout(5):
                answer = await self._ask(b"PING")
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise ScanFailed(f"clamd at {self.host}:{self.port}: {exc!r}") from exc
        if answer != "PONG":
            raise ScanFailed(f"clamd answered {answer!r} to PING")


def scanner_for(url: str | None) -> Scanner:
    return Clamd(url) if url else NoScanner()
