"""The attachment service beside the real file, message, channel and workspace services (and
what those call), on each storage world: the embedded document store with the local object
folder and no scanner, then the real MongoDB-protocol server, S3 server and clamd. The services
start once per module; each test has a workspace and users of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from quckchat.core.events import Event, InProcessBus
from quckchat.core.runtime import Runtime
from quckchat.file import store as file_store
from tests.support import TestKeys
from tests.worlds.bus import drain
from tests.worlds.files import WORLDS, Uploader, mark_storage_worlds, storage_org
from tests.worlds.identity import new_user
from tests.worlds.org import SERVICES, Org

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_storage_worlds(items, HERE)


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


@pytest.fixture(scope="module", params=WORLDS)
async def org(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, module_keys: TestKeys
) -> AsyncIterator[Org]:
    path = tmp_path_factory.mktemp("attachments")
    services = [*SERVICES, "file", "attachment", "message"]
    async with storage_org(request.param, path, module_keys, services) as org:
        yield org


@pytest.fixture
async def team(org: Org, request: pytest.FixtureRequest) -> AsyncIterator[Team]:
    owner, bob, eve = new_user(), new_user(), new_user()
    workspace = await org.create_workspace(owner)
    await org.add(workspace["id"], owner, bob)
    other = await org.create_workspace(eve)
    general = (await org.channels(workspace["id"], owner))["general"]["id"]
    bus = org.runtime("message").events
    assert isinstance(bus, InProcessBus)
    queue = bus.hub.attach(f"attachment-test-{owner}", (bus.prefix + "quckchat.message",))
    world = request.node.callspec.params["org"]
    try:
        yield Team(org, world, owner, bob, eve, workspace["id"], other["id"], general, queue)
    finally:
        bus.hub.detach(queue)
