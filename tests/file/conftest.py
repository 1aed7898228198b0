"""The file service beside the real workspace service (and what that calls), on each storage
world: the embedded document store with the local object folder and no scanner, then the real
MongoDB-protocol server, S3 server and clamd of hack/testbed."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from quckchat.core.events import Event
from quckchat.core.objects import ObjectStore
from tests.support import TestKeys
from tests.worlds.files import WORLDS, Uploader, mark_storage_worlds, storage_org
from tests.worlds.files import noise as noise
from tests.worlds.identity import new_user
from tests.worlds.org import SERVICES, Org

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_storage_worlds(items, HERE)


@dataclass
class Files:
    """The running mesh, with what an uploading client does."""

    org: Org
    world: str

    @property
    def api(self) -> httpx.AsyncClient:
        return self.org.mesh.client("file")

    @property
    def objects(self) -> ObjectStore:
        found = self.org.runtime("file").objects
        assert found is not None
        return found

    def auth(self, user: str) -> dict[str, str]:
        return self.org.auth(user)

    def events(self, type_: str) -> list[Event]:
        return self.org.events(type_)

    async def workspace(self, *roles: str) -> tuple[str, str, list[str]]:
        """A new workspace (id), its owner, and a member in each role."""
        owner = new_user()
        ws = await self.org.create_workspace(owner)
        users = [new_user() for _ in roles]
        for user, role in zip(users, roles, strict=True):
            await self.org.add(ws["id"], owner, user, role)
        return ws["id"], owner, users

    @property
    def uploader(self) -> Uploader:
        return Uploader(self.api, self.auth)

    async def start(self, user: str, workspace_id: str, data: bytes, **body: Any) -> httpx.Response:
        return await self.uploader.start(user, workspace_id, data, **body)

    async def send(self, url: str, data: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.uploader.send(url, data, headers)

    async def upload(
        self, user: str, workspace_id: str, data: bytes, **body: Any
    ) -> dict[str, Any]:
        return await self.uploader.upload(user, workspace_id, data, **body)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module", params=WORLDS)
async def files(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, module_keys: TestKeys
) -> AsyncIterator[Files]:
    path = tmp_path_factory.mktemp("files")
    async with storage_org(request.param, path, module_keys, [*SERVICES, "file"]) as org:
        yield Files(org, request.param)
