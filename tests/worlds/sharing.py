"""A team sharing files: a workspace (its owner, Alice, and a member, Bob) and its #general on
a storage world's mesh (tests/worlds/files.py), with what its members do with files; Eve is in a
workspace of her own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from quckchat.core.events import Event, InProcessBus
from quckchat.core.runtime import Runtime
from quckchat.file import store as file_store
from tests.worlds.bus import drain
from tests.worlds.files import Uploader
from tests.worlds.identity import new_user
from tests.worlds.org import Org


@dataclass
class Team:
    """A workspace (its owner, Alice, and a member, Bob) and its #general, on the mesh; Eve is
    in a workspace of her own."""

    org: Org
    world: str
    owner: str
    bob: str
    eve: str
    workspace_id: str
    eve_workspace_id: str
    general: str
    queue: asyncio.Queue[Event]
    seen: list[Event] = field(default_factory=list)

    @property
    def messages(self) -> httpx.AsyncClient:
        return self.org.mesh.client("message")

    @property
    def api(self) -> httpx.AsyncClient:
        return self.org.mesh.client("attachment")

    @property
    def runtime(self) -> Runtime:
        return self.org.runtime("attachment")

    def auth(self, user: str) -> dict[str, str]:
        return self.org.auth(user)

    async def upload(self, user: str, data: bytes, workspace_id: str = "", **body: Any) -> str:
        uploader = Uploader(self.org.mesh.client("file"), self.auth)
        file = await uploader.upload(user, workspace_id or self.workspace_id, data, **body)
        return str(file["id"])

    async def send(
        self, user: str, *file_ids: str, channel_id: str = "", **body: Any
    ) -> httpx.Response:
        body = {
            "channel_id": channel_id or self.general,
            "text": "see attached",
            "attachments": [{"id": f} for f in file_ids],
            **body,
        }
        return await self.messages.post("/", json=body, headers=self.auth(user))

    async def sent(self, user: str, *file_ids: str, **body: Any) -> dict[str, Any]:
        response = await self.send(user, *file_ids, **body)
        assert response.status_code == 201, response.text
        message: dict[str, Any] = response.json()
        return message

    async def files(self, user: str, channel_id: str = "", **params: Any) -> httpx.Response:
        params = {"channel_id": channel_id or self.general, **params}
        return await self.api.get("/", params=params, headers=self.auth(user))

    async def listed(self, user: str, channel_id: str = "", **params: Any) -> list[str]:
        """The file ids the channel's list shows the user (message by message)."""
        response = await self.files(user, channel_id, **params)
        assert response.status_code == 200, response.text
        return [item["file_id"] for item in response.json()["items"]]

    async def message_count(self) -> int:
        found = (
            await self.org.runtime("message")
            .document_db["messages"]
            .count_documents({"channel_id": self.general})
        )
        return int(found)

    async def file_count(self) -> int:
        """The file service's files of the workspace (a copy of one would be another)."""
        files = self.org.runtime("file").document_db[file_store.FILES]
        return int(await files.count_documents({"workspace_id": self.workspace_id}))

    async def used(self) -> int:
        return int((await self.org.storage(self.workspace_id))["storage_used_bytes"])

    def events(self, type_: str) -> list[Event]:
        """The message service's events of the type published so far (this test's own)."""
        self.seen.extend(drain(self.queue))
        return [e for e in self.seen if e.type == type_]


@asynccontextmanager
async def sharing_team(org: Org, world: str) -> AsyncIterator[Team]:
    """A new team on the running mesh, watching the message service's events."""
    owner, bob, eve = new_user(), new_user(), new_user()
    workspace = await org.create_workspace(owner)
    await org.add(workspace["id"], owner, bob)
    other = await org.create_workspace(eve)
    general = (await org.channels(workspace["id"], owner))["general"]["id"]
    bus = org.runtime("message").events
    assert isinstance(bus, InProcessBus)
    queue = bus.hub.attach(f"attachment-test-{owner}", (bus.prefix + "quckchat.message",))
    try:
        yield Team(org, world, owner, bob, eve, workspace["id"], other["id"], general, queue)
    finally:
        bus.hub.detach(queue)
