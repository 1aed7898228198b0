"""One client's WebSocket session: sign-in, resume, live frames, client frames, closing.

Resume without gap or duplicate: the client joins the hub first (live frames start queuing),
then the stream is replayed from its last id; the sender then skips queued frames at or before
the last one replayed. Frames go out from one task only, so they never interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from pydantic import BaseModel
from starlette.websockets import WebSocket, WebSocketDisconnect

from quckchat.channel import client as channel_client
from quckchat.core import logging as qlog
from quckchat.core.errors import Problem
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal
from quckchat.presence.events import Typing
from quckchat.realtime.audience import Audience
from quckchat.realtime.client import (
    CLOSE_BAD_TOKEN,
    CLOSE_TOKEN_EXPIRED,
    CLOSE_TOO_SLOW,
    CLOSE_UNAVAILABLE,
)
from quckchat.realtime.hub import Client, Frame, Hub, frame
from quckchat.realtime.protocol import Error, Hello, Pong, Resync
from quckchat.realtime.stream import Stream, position
from quckchat.workspace import client as workspace_client

log = qlog.get("realtime.connection")

CLOSE_WAIT_SECONDS = 10.0
TYPING_EVERY = 2.0  # seconds between typing frames a client may send per channel
TYPING_TTL = 5


def control(model: BaseModel) -> Frame:
    """A control frame (no event id): one of the protocol's models, as the document says."""
    return frame(None, model.model_dump_json())


async def _memberships(runtime: Runtime, user_id: str) -> tuple[set[str], set[str]]:
    """The channels and workspaces the user belongs to, as their services say now."""
    channels = await channel_client.channels_of(runtime.http, user_id)
    workspaces = await workspace_client.workspaces_of(runtime.http, user_id)
    return set(channels), set(workspaces)


class Session:
    def __init__(self, runtime: Runtime, hub: Hub, stream: Stream, websocket: WebSocket) -> None:
        self.runtime, self.hub, self.stream, self.websocket = runtime, hub, stream, websocket
        self.client: Client | None = None
        self.sent: tuple[int, int] = (0, 0)
        self.typing_at: dict[str, float] = {}

    async def run(self, token: str | None, last_event_id: str | None) -> None:
        await self.websocket.accept()
        try:
            principal = await self.runtime.tokens.verify(token or "")
        except Problem:
            await self.websocket.close(CLOSE_BAD_TOKEN, "a valid access token is required")
            return
        try:
            channels, workspaces = await _memberships(self.runtime, principal.user_id)
        except Problem as problem:
            log.warning("cannot load memberships of %s: %s", principal.user_id, problem.detail)
            await self.websocket.close(CLOSE_UNAVAILABLE, "try again shortly")
            return
        limit = self.runtime.settings.realtime_send_queue
        client = Client(principal.user_id, channels, workspaces, limit)
        self.client = client
        self.hub.add(client)
        try:
            await self._serve(principal, client, last_event_id)
        finally:
            self.hub.remove(client)

    async def _serve(self, principal: Principal, client: Client, last_event_id: str | None) -> None:
        last = await self.stream.last_id()
        hello = control(
            Hello(connection_id=client.id, user_id=principal.user_id, last_event_id=last)
        )
        await self.websocket.send(hello[1])
        if last_event_id:
            await self._replay(client, last_event_id)
        watched = [
            asyncio.create_task(self._send(client)),
            asyncio.create_task(self._receive(client)),
            asyncio.create_task(client.closed.wait()),
        ]
        expires = principal.claims.get("exp")
        timeout = max(float(expires) - time.time(), 0.0) if expires else None
        try:
            done, _ = await asyncio.wait(
                watched, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                client.close_code = CLOSE_TOKEN_EXPIRED
        finally:
            for task in watched:
                task.cancel()
            await asyncio.gather(*watched, return_exceptions=True)
        if client.close_code is not None:
            reason = "too slow" if client.close_code == CLOSE_TOO_SLOW else "token expired"
            # A client that reads nothing never takes the close frame either: do not wait long.
            with contextlib.suppress(RuntimeError, WebSocketDisconnect, TimeoutError):
                async with asyncio.timeout(CLOSE_WAIT_SECONDS):
                    await self.websocket.close(client.close_code, reason)

    async def _replay(self, client: Client, last_event_id: str) -> None:
        """Send what the client missed, before any live frame (those wait in the queue)."""
        try:
            after = position(last_event_id)
        except ValueError:
            await self.websocket.send(
                control(Error(detail="last_event_id is not an id this server gave"))[1]
            )
            return
        first = await self.stream.first_id()
        if first is not None and position(first) > after and after != (0, 0):
            # The log no longer reaches back that far: the client must reload from the API.
            await self.websocket.send(
                control(Resync(detail="too much was missed; reload the channels"))[1]
            )
        cursor = last_event_id
        while batch := await self.stream.after(cursor):
            for entry in batch:
                if client.sees(entry):
                    await self.websocket.send_text(entry.frame())
                    self.sent = entry.position
            cursor = batch[-1].id

    async def _send(self, client: Client) -> None:
        """Send what is queued, all of it per wake-up: a send only waits on a full socket."""
        frames, send = client.frames, self.websocket.send
        while True:
            await client.wait()
            while frames:
                where, message = frames.popleft()
                if where is not None:
                    if where <= self.sent:
                        continue  # already sent by the replay (or the other way round)
                    self.sent = where
                await send(message)

    async def _receive(self, client: Client) -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                text = await self.websocket.receive_text()
                await self._on_frame(client, text)

    async def _on_frame(self, client: Client, text: str) -> None:
        try:
            frame = json.loads(text)
            kind = frame["type"]
        except (ValueError, KeyError, TypeError):
            client.offer(control(Error(detail='frames are JSON objects with a "type"')))
            return
        if kind == "ping":
            client.offer(control(Pong()))
        elif kind == "typing":
            await self._typing(client, frame.get("channel_id"))
        else:
            client.offer(control(Error(detail=f"unknown frame type {kind!r}")))

    async def _typing(self, client: Client, channel_id: Any) -> None:
        if not isinstance(channel_id, str) or channel_id not in client.channels:
            client.offer(control(Error(detail="typing needs a channel_id you are in")))
            return
        now = time.monotonic()
        if now - self.typing_at.get(channel_id, 0.0) < TYPING_EVERY:
            return
        self.typing_at[channel_id] = now
        try:
            member = await channel_client.membership(self.runtime, channel_id, client.user_id)
        except Problem as problem:
            gone = problem.status == 404
            detail = "typing needs a channel_id you are in" if gone else "typing is not told now"
            client.offer(control(Error(detail=detail)))
            return
        # The presence service's own typing event: one shape, whichever way typing is told.
        typing = Typing(
            workspace_id=member.workspace_id,
            channel_id=channel_id,
            user_id=client.user_id,
            actor=client.user_id,
            expires_in=TYPING_TTL,
        )
        event_id = f"typing.{client.id}.{int(now * 1000)}"
        await self.stream.append(
            event_id, typing.type, typing.model_dump(mode="json"), Audience(channel_id=channel_id)
        )
