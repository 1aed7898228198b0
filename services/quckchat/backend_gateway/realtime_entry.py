"""The WebSocket at the public address, /api/v1/realtime/ws: handed to the realtime service.

When this process serves realtime too (`quckchat run`), the connection goes straight to its app,
with no hop. Otherwise (each service its own process) the gateway relays frames both ways and
passes on realtime's close code (4401, 4008, ...). On Kubernetes the Ingress routes this path
to the realtime Service itself, and the gateway never sees it.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from quckchat.core import context, local
from quckchat.core import logging as qlog
from quckchat.core.deps import client_ip
from quckchat.core.runtime import Runtime
from quckchat.realtime import client as realtime_client

log = qlog.get("gateway.realtime")

CONNECT_SECONDS = 5.0
# What the client sent that realtime reads besides the query string.
PASSED_HEADERS = ("authorization", "user-agent", context.REQUEST_ID_HEADER.lower())


class RealtimeEntry:
    """An ASGI app for the one WebSocket route (Starlette passes the raw connection on)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        served = local.served_here(realtime_client.SERVICE)
        if served is not None:
            path = realtime_client.SOCKET_PATH
            here = {**scope, "path": path, "raw_path": path.encode()}
            await served(here, receive, send)
            return
        await relay(WebSocket(scope, receive, send))


async def relay(client: WebSocket) -> None:
    runtime: Runtime = client.app.state.runtime
    try:
        upstream = await asyncio.wait_for(_connect(runtime, client), CONNECT_SECONDS)
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        log.warning("realtime unreachable for a client's WebSocket: %s", exc)
        await client.accept()
        await client.close(realtime_client.CLOSE_UNAVAILABLE, "try again shortly")
        return
    async with upstream:
        await client.accept()
        to_upstream = asyncio.create_task(_client_to_upstream(client, upstream))
        try:
            await _upstream_to_client(upstream, client)
        finally:
            to_upstream.cancel()
            # However the client's side ended, the connection is over for both.
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await to_upstream


async def _connect(runtime: Runtime, client: WebSocket) -> ClientConnection:
    query = client.scope.get("query_string", b"").decode("latin-1")
    headers = {k: v for k in PASSED_HEADERS if (v := client.headers.get(k))}
    headers["x-forwarded-for"] = client_ip(client) or "unknown"
    return await realtime_client.open_socket(runtime, query, headers)


async def _client_to_upstream(client: WebSocket, upstream: ClientConnection) -> None:
    """The client's frames to realtime; when the client goes, realtime is told."""
    try:
        while True:
            message = await client.receive()
            if message["type"] == "websocket.disconnect":
                await upstream.close(_sendable(message.get("code", 1000)))
                return
            data = message.get("text")
            if data is None:
                data = message.get("bytes")
            if data is not None:
                await upstream.send(data)
    except (WebSocketDisconnect, ConnectionClosed):
        await upstream.close()


async def _upstream_to_client(upstream: ClientConnection, client: WebSocket) -> None:
    """realtime's frames to the client, then its close code and reason."""
    try:
        async for data in upstream:
            if isinstance(data, str):
                await client.send_text(data)
            else:
                await client.send_bytes(data)
    except ConnectionClosed:
        pass
    except (WebSocketDisconnect, RuntimeError):
        return  # the client went first
    code = upstream.close_code or 1000
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await client.close(
            code if code != 1006 else realtime_client.CLOSE_UNAVAILABLE, upstream.close_reason or ""
        )


def _sendable(code: int) -> int:
    """A code a close frame may carry: 1005 and 1006 only describe a connection that ended."""
    return 1000 if code in (1004, 1005, 1006, 1015) else code


router = APIRouter()
router.routes.append(WebSocketRoute(realtime_client.PUBLIC_PATH, RealtimeEntry()))
