"""The event-broadcast service with the real workspace, channel and permission services.

Alice owns a workspace with Bob as a member; Eve has a workspace of her own. Broadcasts live
in the embedded document store, then on the real MongoDB-protocol server; the SQL services
run on SQLite. Their events reach event-broadcast through the mesh's shared bus. The services
start once per module; each test has its own users and workspaces.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from quckchat.core.events import Event, InProcessBus
from quckchat.core.runtime import Runtime
from tests.worlds.bus import drain, next_event
from tests.worlds.identity import new_user
from tests.worlds.org import Org, documents_org_fixture

SERVICES = ["permission", "user", "channel", "workspace", "event-broadcast"]


@dataclass
class Town:
    org: Org
    alice: str
    bob: str
    eve: str
    workspace_id: str
    eve_workspace_id: str
    queue: asyncio.Queue[Event]

    @property
    def broadcasts(self) -> httpx.AsyncClient:
        return self.org.mesh.client("event-broadcast")

    @property
    def runtime(self) -> Runtime:
        return self.org.runtime("event-broadcast")

    def auth(self, user: str) -> dict[str, str]:
        return self.org.auth(user)

    async def event(self, type_: str, **data: Any) -> Event:
        """The next broadcast event of the type whose data holds `data` (others are dropped)."""
        return await next_event(self.queue, type_, **data)

    def drain(self) -> list[Event]:
        return drain(self.queue)

    async def history(self, user: str, workspace_id: str | None = None, **params: Any) -> Any:
        params = {"workspace_id": workspace_id or self.workspace_id, **params}
        response = await self.broadcasts.get("/", params=params, headers=self.auth(user))
        assert response.status_code == 200, response.text
        return response.json()

    async def settle(self) -> None:
        """Let the consumer handle what the other services just published."""
        await asyncio.sleep(0.1)


broadcast_org = documents_org_fixture(SERVICES)


@pytest.fixture
async def town(broadcast_org: Org) -> AsyncIterator[Town]:
    org = broadcast_org
    bus = org.runtime("event-broadcast").events
    assert isinstance(bus, InProcessBus)
    queue = bus.hub.attach("broadcast-test", (bus.prefix + "quckchat.event-broadcast",))
    try:
        alice, bob, eve = new_user(), new_user(), new_user()
        workspace = await org.create_workspace(alice)
        await org.add(workspace["id"], alice, bob)
        other = await org.create_workspace(eve)
        town = Town(org, alice, bob, eve, workspace["id"], other["id"], queue)
        await town.settle()
        yield town
    finally:
        bus.hub.detach(queue)
