"""The clients connected to this replica, indexed by channel, workspace and user.

Dispatching an entry costs one lookup per audience part and one queue put per recipient; the
frame text is built once. A client whose queue is full is cut off (a slow reader must not make
the replica's memory grow); membership events update the indexes before they are delivered, so
a member who joins sees the channel's next event and one who left does not.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

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

Frame = tuple[tuple[int, int] | None, str]  # (stream position or None for control frames, text)


@dataclass(eq=False)
class Client:
    """One WebSocket connection: who it is, what it may see, and its send queue."""

    user_id: str
    channels: set[str]
    workspaces: set[str]
    queue: asyncio.Queue[Frame]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    close_code: int | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, frame: Frame) -> bool:
        """Queue a frame; a full queue cuts the client off (False)."""
        if self.close_code is not None:
            return False
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close_code = CLOSE_TOO_SLOW
            self.closed.set()
            CUT_OFF.inc()
            return False
        return True

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
        frame: Frame = (entry.position, entry.frame())
        delivered = sum(client.offer(frame) for client in recipients)
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
