"""The presence service with the real user, workspace, channel and permission services.

Alice owns two workspaces and Bob is a member of the first; Eve has a workspace of her own.
Presence's documents live in the embedded store, then on the real MongoDB-protocol server;
its Redis is the embedded one, then the real server. The SQL services run on SQLite.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from quckchat.core.events import Event, InProcessBus
from quckchat.core.runtime import Runtime
from quckchat.user.consumers import on_auth_event
from tests.support import TestKeys, server
from tests.worlds.bus import drain
from tests.worlds.identity import new_user, registered
from tests.worlds.mesh import replica as mesh_replica
from tests.worlds.org import Org, running_org

SERVICES = ["permission", "user", "channel", "workspace", "presence"]
INTERNAL = {"X-QuckChat-Caller": "notification-orchestrator"}


@dataclass
class World:
    org: Org
    alice: str
    bob: str
    eve: str
    workspace_id: str
    side_id: str  # Alice's second workspace
    eve_workspace_id: str
    general: str
    queue: asyncio.Queue[Event]

    @property
    def presence(self) -> httpx.AsyncClient:
        return self.org.mesh.client("presence")

    @property
    def runtime(self) -> Runtime:
        return self.org.runtime("presence")

    def auth(self, user: str, tenant: str = "default") -> dict[str, str]:
        return self.org.auth(user, tenant)

    async def beat(self, user: str, device: str = "phone", *, active: bool = True) -> None:
        body = {"device_id": device, "active": active}
        response = await self.presence.post("/heartbeat", json=body, headers=self.auth(user))
        assert response.status_code == 204, response.text

    async def seen_by(self, viewer: str, user: str) -> dict[str, Any]:
        response = await self.presence.get(f"/{user}", headers=self.auth(viewer))
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def choose(self, user: str, **body: Any) -> dict[str, Any]:
        response = await self.presence.put("/me", json=body, headers=self.auth(user))
        assert response.status_code == 200, response.text
        me: dict[str, Any] = response.json()
        return me

    async def settings(self, user: str, **body: Any) -> None:
        users = self.org.mesh.client("user")
        response = await users.patch("/me/settings", json=body, headers=self.auth(user))
        assert response.status_code == 200, response.text

    async def events_until(
        self, done: Callable[[list[Event]], bool], seconds: float = 30.0
    ) -> list[Event]:
        """The `presence.changed` events published since the last call, waiting until `done`
        holds for them: the replica that won a sweep may still be announcing it."""
        found = self.events()
        async with asyncio.timeout(seconds):
            while not done(found):
                event = await self.queue.get()
                if event.type == "presence.changed":
                    found.append(event)
        return found

    def events(self, type_: str = "presence.changed") -> list[Event]:
        """The presence events published since the last call (the bus routes at once)."""
        return [event for event in drain(self.queue) if event.type == type_]


@asynccontextmanager
async def replica(world: World) -> AsyncIterator[Runtime]:
    """A second presence process on the same stores, reaching the same services."""
    primary = world.runtime
    async with mesh_replica(world.org.mesh, "presence", world.org.keys) as (_, _c, runtime):
        own = runtime.documents
        if primary.settings.mongodb_url is None:
            runtime.documents = primary.documents  # the embedded store lives in its process
        try:
            yield runtime
        finally:
            runtime.documents = own


async def register(org: Org, user: str) -> None:
    """The user's profile, made as the auth service's registration event makes it."""
    await on_auth_event(org.runtime("user"), registered(user))


@pytest.fixture(params=["embedded", "redis"])
def redis_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "embedded" else server("redis")


@pytest.fixture
async def world(
    tmp_path: Path, keys: TestKeys, documents_url: str | None, redis_url: str | None
) -> AsyncIterator[World]:
    async with running_org(
        "sqlite",
        tmp_path,
        keys,
        services=SERVICES,
        mongodb_url=documents_url,
        redis_url=redis_url,
    ) as org:
        alice, bob, eve = new_user(), new_user(), new_user()
        for user in (alice, bob, eve):
            await register(org, user)
        workspace = await org.create_workspace(alice)
        side = await org.create_workspace(alice)
        await org.add(workspace["id"], alice, bob)
        other = await org.create_workspace(eve)
        general = (await org.channels(workspace["id"], alice))["general"]["id"]
        bus = org.runtime("presence").events
        assert isinstance(bus, InProcessBus)
        queue = bus.hub.attach("presence-test", (bus.prefix + "quckchat.presence",))
        try:
            yield World(
                org, alice, bob, eve, workspace["id"], side["id"], other["id"], general, queue
            )
        finally:
            bus.hub.detach(queue)
