"""The message service with the real workspace, channel and permission services.

Alice owns a workspace with Bob as a member; Eve is in a workspace of her own. The message
store is the embedded one, then the real MongoDB-protocol server; the SQL services run on
SQLite (their own suites cover the SQL servers). The services start once per module; each test
has a workspace and users of its own. `pair` adds a second message replica.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from quckchat.core.events import Event, InProcessBus
from quckchat.core.runtime import Runtime
from tests.support import TestKeys
from tests.worlds.bus import next_event
from tests.worlds.identity import new_user
from tests.worlds.mesh import replica
from tests.worlds.org import Org, documents_org_fixture

SERVICES = ["permission", "user", "channel", "workspace", "message"]


@dataclass
class Chat:
    org: Org
    alice: str
    bob: str
    eve: str
    workspace_id: str
    general: str
    queue: asyncio.Queue[Event]

    @property
    def messages(self) -> httpx.AsyncClient:
        return self.org.mesh.client("message")

    def auth(self, user: str) -> dict[str, str]:
        return self.org.auth(user)

    async def send(self, user: str, text: str = "hello", **body: Any) -> dict[str, Any]:
        body = {"channel_id": self.general, "text": text, **body}
        response = await self.messages.post("/", json=body, headers=self.auth(user))
        assert response.status_code == 201, response.text
        sent: dict[str, Any] = response.json()
        return sent

    async def event(self, type_: str, **data: Any) -> Event:
        """The next message event of the type whose data holds `data` (others are dropped)."""
        return await next_event(self.queue, type_, **data)


@asynccontextmanager
async def _chat(org: Org) -> AsyncIterator[Chat]:
    alice, bob, eve = new_user(), new_user(), new_user()
    workspace = await org.create_workspace(alice)
    await org.add(workspace["id"], alice, bob)
    await org.create_workspace(eve)
    general = (await org.channels(workspace["id"], alice))["general"]["id"]
    bus = org.runtime("message").events
    assert isinstance(bus, InProcessBus)
    queue = bus.hub.attach("message-test", (bus.prefix + "quckchat.message",))
    try:
        yield Chat(org, alice, bob, eve, workspace["id"], general, queue)
    finally:
        bus.hub.detach(queue)


message_org = documents_org_fixture(SERVICES)


@pytest.fixture
async def chat(message_org: Org) -> AsyncIterator[Chat]:
    async with _chat(message_org) as chat:
        yield chat


@dataclass
class Pair:
    """The chat with a second message replica on the same document store and event bus."""

    chat: Chat
    client: httpx.AsyncClient
    runtime: Runtime

    @property
    def replicas(self) -> list[tuple[httpx.AsyncClient, Runtime]]:
        return [(self.chat.messages, self.chat.org.runtime("message")), (self.client, self.runtime)]


@pytest.fixture(scope="module")
async def second_replica(
    message_org: Org, module_keys: TestKeys, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """Another message process: its own app and timers, on the same store and bus."""
    first = message_org.runtime("message")
    # A data directory of its own, so the two embedded snapshots never write the same file.
    settings = first.settings.model_copy(update={"data_dir": tmp_path_factory.mktemp("replica")})
    async with replica(message_org.mesh, "message", module_keys, settings) as (_, client, runtime):
        own = runtime.documents
        if own is not None and own.embedded:
            runtime.documents = first.documents  # one in-process store stands for the server
        try:
            yield client, runtime
        finally:
            runtime.documents = own


@pytest.fixture
async def pair(
    message_org: Org, second_replica: tuple[httpx.AsyncClient, Runtime]
) -> AsyncIterator[Pair]:
    async with _chat(message_org) as chat:
        yield Pair(chat, *second_replica)
