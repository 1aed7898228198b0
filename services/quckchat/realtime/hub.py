"""The clients connected to this replica, indexed by channel, workspace and user.

Dispatching an entry costs one lookup per audience part and one append per recipient; the
frame, down to the ASGI message that carries it, is built once and shared by every recipient.
A client with `limit` frames waiting is cut off (a slow reader must not make the replica's
memory grow); membership events update the indexes before they are delivered, so a member who
joins sees the channel's next event and one who left does not.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge

from quckchat.realtime.client import CLOSE_TOO_SLOW
from quckchat.realtime.stream import Entry

DELIVERIES = Counter("quckchat_realtime_deliveries_total", "Frames queued for clients")
CONNECTIONS = Gauge("quckchat_realtime_connections", "Open WebSocket connections")
CUT_OFF = Counter("quckchat_realtime_slow_clients_total", "Clients cut off for reading too slowly")

# (stream position, or None for a control frame; the ASGI message that sends its text)
Frame = tuple[tuple[int, int] | None, dict[str, Any]]


def frame(where: tuple[int, int] | None, text: str) -> Frame:
    return where, {"type": "websocket.send", "text": text}


@dataclass(eq=False)
class Client:
    """One WebSocket connection: who it is, what it may see, and the frames it has yet to get."""

    user_id: str
    channels: set[str]
    workspaces: set[str]
    limit: int
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    close_code: int | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    frames: deque[Frame] = field(default_factory=deque, init=False)
    _waiter: asyncio.Future[None] | None = field(default=None, init=False, repr=False)

    def offer(self, frame: Frame) -> bool:
        """Queue a frame; `limit` frames already waiting cut the client off (False)."""
        if self.close_code is not None:
            return False
        if len(self.frames) >= self.limit:
            self.close_code = CLOSE_TOO_SLOW
            self.closed.set()
            CUT_OFF.inc()
            return False
        self.frames.append(frame)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        return True

    async def wait(self) -> None:
        """Return once a frame is queued (at once if one is)."""
        while not self.frames:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def sees(self, entry: Entry) -> bool:
        audience = entry.audience
        return (
            self.user_id in audience.users
            or (audience.channel_id is not None and audience.channel_id in self.channels)
            or (audience.workspace_id is not None and audience.workspace_id in self.workspaces)
        )


class Hub:
    def __init__(self) -> None:
        self.by_user: dict[str, set[Client]] = defaultdict(set)
        self.by_channel: dict[str, set[Client]] = defaultdict(set)
        self.by_workspace: dict[str, set[Client]] = defaultdict(set)

    def add(self, client: Client) -> None:
        self.by_user[client.user_id].add(client)
        for channel in client.channels:
            self.by_channel[channel].add(client)
        for workspace in client.workspaces:
            self.by_workspace[workspace].add(client)
        CONNECTIONS.inc()

    def remove(self, client: Client) -> None:
        _discard(self.by_user, client.user_id, client)
        for channel in client.channels:
            _discard(self.by_channel, channel, client)
        for workspace in client.workspaces:
            _discard(self.by_workspace, workspace, client)
        CONNECTIONS.dec()

    def __len__(self) -> int:
        return sum(len(clients) for clients in self.by_user.values())

    def _follow_membership(self, entry: Entry) -> None:
        """Add or drop the channel (or, without one, the workspace) for the connections of the
        users the audience names (of everyone in it, when a left one names none)."""
        audience = entry.audience
        in_channel = audience.channel_id is not None
        target = audience.channel_id if in_channel else audience.workspace_id
        if target is None:
            return
        index = self.by_channel if in_channel else self.by_workspace
        if audience.users:
            clients = [c for user in audience.users for c in self.by_user.get(user, ())]
        else:
            clients = list(index.get(target, ())) if audience.membership == "left" else []
        for client in clients:
            owned = client.channels if in_channel else client.workspaces
            if audience.membership == "joined":
                owned.add(target)
                index[target].add(client)
            else:
                owned.discard(target)
                _discard(index, target, client)

    def dispatch(self, entry: Entry) -> int:
        """Queue the entry for every local client in its audience; how many got it."""
        audience = entry.audience
        if audience.membership == "joined":
            self._follow_membership(entry)
        recipients: set[Client] = set()
        if audience.channel_id is not None:
            recipients.update(self.by_channel.get(audience.channel_id, ()))
        if audience.workspace_id is not None:
            recipients.update(self.by_workspace.get(audience.workspace_id, ()))
        for user in audience.users:
            recipients.update(self.by_user.get(user, ()))
        shared = frame(entry.position, entry.frame())
        delivered = 0
        for client in recipients:
            delivered += client.offer(shared)
        if audience.membership == "left":
            self._follow_membership(entry)
        DELIVERIES.inc(delivered)
        return delivered


def _discard(index: dict[str, set[Client]], key: str, client: Client) -> None:
    clients = index.get(key)
    if clients is not None:
        clients.discard(client)
        if not clients:
            del index[key]
