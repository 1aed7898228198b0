"""A lean WebSocket load generator: many clients in one process that time event frames.

It speaks just enough of RFC 6455 to read a server's frames: the upgrade, unmasked frames,
fragmented messages, permessage-deflate with context takeover (offered as browsers offer it, so
the server does the work it does for them), a pong for each ping, and the few text frames a
`Dialect` says to send (Centrifugo's connect and subscribe). Frames are not JSON-parsed: the
send time is read out of the text. A client on `websockets` spent more CPU per frame than the
replica it measured, so the load generator, not the replica, set the figure.
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
_CONTINUATION, _TEXT, _CLOSE, _PING = 0x0, 0x1, 0x8, 0x9
_FIN = 0x80


@dataclass
class Tally:
    """What every client of the process saw: one latency (seconds) per timed event.

    A sender writes its wall clock between `start` and `end` into what it sends (a field of an
    event's data, or a message's text); every copy that arrives is timed by it.
    """

    expected: int
    start: bytes = b'"t":'
    end: bytes = b","
    latencies: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def event(self, text: bytes) -> None:
        """Time each send time in `text` (a frame, or a long poll's answer holding several)."""
        now, at = time.time(), text.find(self.start)
        while at >= 0:
            at += len(self.start)
            stop = text.index(self.end, at)
            self.latencies.append(now - float(text[at:stop]))
            at = text.find(self.start, stop)
        if len(self.latencies) >= self.expected:
            self.done.set()


def _masked_text(payload: bytes) -> bytes:
    """A client's text frame (RFC 6455 5.3: client frames are masked; a zero mask keeps the
    payload as it is)."""
    size = len(payload)
    if size < 126:
        head = bytes((0x81, 0x80 | size))
    elif size < 1 << 16:
        head = bytes((0x81, 0x80 | 126)) + size.to_bytes(2)
    else:
        head = bytes((0x81, 0x80 | 127)) + size.to_bytes(8)
    return head + bytes(4) + payload


@dataclass(frozen=True)
class Dialect:
    """How one server's WebSocket says hello and carries events, for the lean reader (plain
    bytes, so a client process can be handed one)."""

    # What marks the frame after which the client counts as connected (and subscribed).
    hello: bytes = b'"type":"hello"'
    # What marks a frame that carries events to time.
    event: bytes = b'{"id"'
    # Text frames the client sends once upgraded, in order.
    greeting: tuple[bytes, ...] = ()


# QuckChat's realtime: a hello frame, then each event as an envelope that starts with its id.
QUCKCHAT = Dialect()


def centrifugo(token: str, channels: list[str]) -> Dialect:
    """Centrifugo's JSON protocol: connect, subscribe to each channel, then publications as
    pushes (a frame may hold several replies or pushes, a line each). The client's URL asks
    for WebSocket pings (`cf_ws_frame_ping_pong=true`) instead of its in-band ones."""
    subscribes = tuple(
        b'{"id":%d,"subscribe":{"channel":"%s"}}' % (n, channel.encode())
        for n, channel in enumerate(channels, start=2)
    )
    return Dialect(
        hello=b'{"id":%d,' % (len(channels) + 1),
        event=b'{"push":',
        greeting=(b'{"id":1,"connect":{"token":"%s"}}' % token.encode(), *subscribes),
    )


class _Reader(asyncio.Protocol):
    def __init__(self, tally: Tally, hello: asyncio.Future[None], dialect: Dialect) -> None:
        self.tally = tally
        self.hello = hello
        self.dialect = dialect
        self.buffer = bytearray()
        self.upgraded = False
        self.inflate: zlib._Decompress | None = None
        self.fragments: tuple[int, bytearray] | None = None
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
        if self.transport is not None:
            for text in self.dialect.greeting:
                self.transport.write(_masked_text(text))
        return True

    def _frame(self, first: int, payload: bytes) -> None:
        # A message may come in fragments (a server's write buffer splits a long one): the
        # first says the kind and compression, continuations (opcode 0) follow until FIN.
        if first & 0x0F == _CONTINUATION and self.fragments is not None:
            self.fragments[1].extend(payload)
            if not first & _FIN:
                return
            first, payload = self.fragments[0], bytes(self.fragments[1])
            self.fragments = None
        elif not first & _FIN:
            self.fragments = (first, bytearray(payload))
            return
        if first & 0x40 and self.inflate is not None:  # RSV1: a compressed message
            payload = self.inflate.decompress(payload + _DEFLATE_TAIL)
        opcode = first & 0x0F
        dialect = self.dialect
        if opcode == _TEXT:
            if dialect.event in payload:
                self.tally.event(payload)
            elif not self.hello.done() and dialect.hello in payload:
                self.hello.set_result(None)
        elif opcode == _PING and self.transport is not None:
            # Client frames are masked; an all-zero mask leaves the payload as it is.
            self.transport.write(bytes((0x8A, 0x80 | len(payload))) + bytes(4) + payload)
        elif opcode == _CLOSE and self.transport is not None:
            self.transport.close()


async def connect(url: str, tally: Tally, dialect: Dialect = QUCKCHAT) -> asyncio.Transport:
    """Open one client and wait for its hello; its transport."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    hello: asyncio.Future[None] = loop.create_future()
    transport, _ = await loop.create_connection(
        lambda: _Reader(tally, hello, dialect), parts.hostname or "localhost", parts.port or 80
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
