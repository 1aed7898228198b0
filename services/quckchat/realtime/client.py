"""What other services ask of the realtime service: a client's WebSocket, opened on its behalf
(the gateway relays the public address to it when realtime runs in a process of its own), and
the AsyncAPI document of that WebSocket (the gateway serves it). The only module outside the
realtime service that reaches it."""

from __future__ import annotations

from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus

from quckchat import catalog
from quckchat.core import context
from quckchat.core.runtime import Runtime

SERVICE = "realtime"
PUBLIC_PATH = catalog.WEBSOCKET_PATH
# realtime's own path for the socket (it answers the public one too)
SOCKET_PATH = "/ws"

# Why realtime ends a connection, as the close frame's code says (the gateway passes them on).
CLOSE_BAD_TOKEN = 4401
CLOSE_TOKEN_EXPIRED = 4402
CLOSE_TOO_SLOW = 4008
CLOSE_UNAVAILABLE = 1013


async def open_socket(runtime: Runtime, query: str, headers: dict[str, str]) -> ClientConnection:
    """A socket to realtime with the client's query (token, last_event_id) and headers.

    Raises OSError when realtime cannot be reached, InvalidHandshake when it refuses.
    """
    base = runtime.settings.service_url(SERVICE).replace("http://", "ws://", 1)
    url = base + SOCKET_PATH + (f"?{query}" if query else "")
    sent = {**headers, context.CALLER_HEADER: runtime.spec.name}
    try:
        return await connect(url, additional_headers=sent, compression=None, max_size=None)
    except InvalidStatus as exc:
        raise InvalidHandshake(f"realtime answered {exc.response.status_code}") from exc


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3 document of the WebSocket: every frame either way, resume, close codes."""
    # Here, not at the top: protocol takes PUBLIC_PATH and the close codes from this module.
    from quckchat.realtime import protocol

    return protocol.document()
