"""The media service beside the file service, on each storage world (tests/worlds/files.py):
what a client uploads, and the media record, renditions and events that follow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from quckchat.core.events import Event
from quckchat.core.objects import ObjectStore
from quckchat.core.runtime import Runtime
from tests.support import TestKeys
from tests.worlds.files import WORLDS, Uploader, mark_storage_worlds, storage_org
from tests.worlds.org import SERVICES, Org
from tests.worlds.waiting import eventually

HERE = Path(__file__).parent
# Each file is decoded in a subprocess, one at a time, by the media service's periodic job.
PROCESSING_SECONDS = 60.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_storage_worlds(items, HERE)


@dataclass
class Media:
    """The running mesh, with what a client of the media and file services does."""

    org: Org
    world: str

    @property
    def api(self) -> httpx.AsyncClient:
        return self.org.mesh.client("media")

    @property
    def files(self) -> Uploader:
        return Uploader(self.org.mesh.client("file"), self.auth)

    @property
    def runtime(self) -> Runtime:
        return self.org.runtime("media")

    @property
    def objects(self) -> ObjectStore:
        return self.runtime.object_store

    def auth(self, user: str) -> dict[str, str]:
        return self.org.auth(user)

    def events(self, type_: str) -> list[Event]:
        return self.org.events(type_)

    async def upload(
        self, user: str, workspace_id: str, data: bytes, *, name: str, content_type: str
    ) -> dict[str, Any]:
        """Start the upload at the media service, send and complete it at the file service."""
        body = {
            "workspace_id": workspace_id,
            "name": name,
            "size": len(data),
            "content_type": content_type,
        }
        started = await self.api.post("/", json=body, headers=self.auth(user))
        assert started.status_code == 201, started.text
        return await self.files.finish(user, started.json(), data)

    async def record(self, user: str, file_id: str) -> httpx.Response:
        return await self.api.get(f"/{file_id}", headers=self.auth(user))

    async def processed(self, user: str, file_id: str) -> dict[str, Any]:
        """The file's media record once its processing is over."""

        async def done() -> dict[str, Any] | None:
            answer = await self.record(user, file_id)
            if answer.status_code != 200 or answer.json()["state"] == "pending":
                return None
            found: dict[str, Any] = answer.json()
            return found

        record: dict[str, Any] | None = await eventually(done, within=PROCESSING_SECONDS, poll=0.2)
        assert record is not None, f"media {file_id} was not processed"
        return record

    async def url(self, user: str, file_id: str, name: str) -> httpx.Response:
        return await self.api.post(f"/{file_id}/renditions/{name}/url", headers=self.auth(user))


@pytest.fixture(scope="module", params=WORLDS)
async def media(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, module_keys: TestKeys
) -> AsyncIterator[Media]:
    path = tmp_path_factory.mktemp("media")
    services = [*SERVICES, "file", "message", "attachment", "media"]
    async with storage_org(request.param, path, module_keys, services) as org:
        yield Media(org, request.param)
