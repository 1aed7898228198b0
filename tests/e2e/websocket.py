"""A signed-in WebSocket client that keeps every frame it reads, for the end-to-end tests; each
frame is checked against the AsyncAPI document."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from tests.worlds.frames import assert_documented, frame_problems

Frame = dict[str, Any]
WAIT_SECONDS = 30.0


class Listener:
    """One signed-in WebSocket whose frames are read in the background and kept, in order."""

    def __init__(self, socket: ClientConnection, hello: Frame) -> None:
        self.socket, self.hello = socket, hello
        self.frames: list[Frame] = []
        self.undocumented: list[tuple[Frame, list[str]]] = []
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str) -> Listener:
        socket = await websockets.connect(url)
        hello = json.loads(await socket.recv())
        assert hello["type"] == "hello", hello
        assert_documented(hello)
        return cls(socket, hello)

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for text in self.socket:
                frame = json.loads(text)
                if problems := frame_problems(frame):
                    self.undocumented.append((frame, problems))
                self.frames.append(frame)

    @property
    def events(self) -> list[Frame]:
        """Event frames (those with a stream id), control frames left out."""
        return [f for f in self.frames if "id" in f]

    async def until(self, match: Callable[[Frame], bool], within: float = WAIT_SECONDS) -> Frame:
        """The first event frame that matches, waiting for it up to a deadline."""
        deadline = time.monotonic() + within
        while True:
            assert not self.undocumented, f"frames the document does not allow: {self.undocumented}"
            found = next((f for f in self.events if match(f)), None)
            if found is not None:
                return found
            if self.reader.done() or time.monotonic() > deadline:
                seen = [(f["type"], f.get("channel_id")) for f in self.events]
                raise AssertionError(f"no matching frame within {within}s; saw {seen}")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        await self.socket.close()
        await self.reader
        assert not self.undocumented, f"frames the document does not allow: {self.undocumented}"


def of_type(kind: str, **data: Any) -> Callable[[Frame], bool]:
    def match(frame: Frame) -> bool:
        return frame["type"] == kind and all(frame["data"].get(k) == v for k, v in data.items())

    return match


def created(message_id: str) -> Callable[[Frame], bool]:
    return lambda f: f["type"] == "message.created" and f["data"]["message"]["id"] == message_id
