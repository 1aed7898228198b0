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

from quckchat.realtime.stream import Entry

CLOSE_TOO_SLOW = 4008
JOINED = ("channel.member.joined",)
LEFT = ("channel.member.left", "channel.member.removed")
WORKSPACE_JOINED = ("workspace.member.joined",)
WORKSPACE_LEFT = ("workspace.member.removed", "workspace.deleted")

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

    def _follow_membership(self, entry: Entry, *, joined: bool) -> None:
        """Add or drop the channel (or workspace) for the member's connections."""
        audience = entry.audience
        workspace_event = entry.type.startswith("workspace.")
        target = audience.workspace_id if workspace_event else audience.channel_id
        if target is None:
            return
        index = self.by_workspace if workspace_event else self.by_channel
        for user in audience.users:
            for client in self.by_user.get(user, ()):
                owned = client.workspaces if workspace_event else client.channels
                if joined:
                    owned.add(target)
                    index[target].add(client)
                else:
                    owned.discard(target)
                    _discard(index, target, client)

    def dispatch(self, entry: Entry) -> int:
        """Queue the entry for every local client in its audience; how many got it."""
        joined = entry.type in JOINED or entry.type in WORKSPACE_JOINED
        if joined:
            self._follow_membership(entry, joined=True)
        audience = entry.audience
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
        if entry.type in LEFT or entry.type in WORKSPACE_LEFT:
            self._follow_membership(entry, joined=False)
        DELIVERIES.inc(delivered)
        return delivered


def _discard(index: dict[str, set[Client]], key: str, client: Client) -> None:
    clients = index.get(key)
    if clients is not None:
        clients.discard(client)
        if not clients:
            del index[key]
