"""A lean WebSocket load generator: many clients in one process that time event frames.

It speaks just enough of RFC 6455 to read a server's frames: the upgrade, unmasked frames,
permessage-deflate with context takeover (offered as browsers offer it, so the server does the
work it does for them), and a pong for each ping. Frames are not JSON-parsed: the send time is
read out of the text. A client on `websockets` spent more CPU per frame than the replica it
measured, so the load generator, not the replica, set the figure.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
import zlib
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

# Appended to a compressed message before inflating it (RFC 7692, section 7.2.2).
_DEFLATE_TAIL = b"\x00\x00\xff\xff"
_TEXT, _CLOSE, _PING = 0x1, 0x8, 0x9


@dataclass
class Tally:
    """What every client of the process saw: one latency (seconds) per event frame."""

    expected: int
    latencies: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def event(self, text: bytes) -> None:
        """Time a frame by the wall-clock `"t":` its sender put in the event's data."""
        start = text.find(b'"t":') + 4
        self.latencies.append(time.time() - float(text[start : text.index(b",", start)]))
        if len(self.latencies) >= self.expected:
            self.done.set()


class _Reader(asyncio.Protocol):
    def __init__(self, tally: Tally, hello: asyncio.Future[None]) -> None:
        self.tally = tally
        self.hello = hello
        self.buffer = bytearray()
        self.upgraded = False
        self.inflate: zlib._Decompress | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.hello.done():
            self.hello.set_exception(ConnectionError("closed before its hello"))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded and not self._upgrade():
            return
        pos, size = 0, len(buffer)
        while size - pos >= 2:
            first, length, head = buffer[pos], buffer[pos + 1] & 0x7F, 2
            if length == 126:
                length, head = int.from_bytes(buffer[pos + 2 : pos + 4]), 4
            elif length == 127:
                length, head = int.from_bytes(buffer[pos + 2 : pos + 10]), 10
            end = pos + head + length
            if end > size:
                break
            self._frame(first, bytes(buffer[pos + head : end]))
            pos = end
        del buffer[:pos]

    def _upgrade(self) -> bool:
        """Consume the 101 answer once it is all here; whether frames may follow."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).decode("latin-1").lower()
        del self.buffer[: end + 4]
        if not head.startswith("http/1.1 101"):
            self.hello.set_exception(ConnectionError(head.splitlines()[0]))
            return False
        if "permessage-deflate" in head:
            self.inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        self.upgraded = True
        return True

    def _frame(self, first: int, payload: bytes) -> None:
        if first & 0x40 and self.inflate is not None:  # RSV1: a compressed message
            payload = self.inflate.decompress(payload + _DEFLATE_TAIL)
        opcode = first & 0x0F
        if opcode == _TEXT:
            if payload.startswith(b'{"id"'):
                self.tally.event(payload)
            elif not self.hello.done():
                self.hello.set_result(None)
        elif opcode == _PING and self.transport is not None:
            # Client frames are masked; an all-zero mask leaves the payload as it is.
            self.transport.write(bytes((0x8A, 0x80 | len(payload))) + bytes(4) + payload)
        elif opcode == _CLOSE and self.transport is not None:
            self.transport.close()


async def connect(url: str, tally: Tally) -> asyncio.Transport:
    """Open one client and wait for its hello; its transport."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    hello: asyncio.Future[None] = loop.create_future()
    transport, _ = await loop.create_connection(
        lambda: _Reader(tally, hello), parts.hostname or "localhost", parts.port or 80
    )
    key = base64.b64encode(os.urandom(16)).decode()
    transport.write(
        (
            f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        ).encode()
    )
    await hello
    return transport
