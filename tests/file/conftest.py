"""The file service beside the real workspace service (and what that calls), on each storage
world: the embedded document store with the local object folder and no scanner, then the real
MongoDB-protocol server, S3 server and clamd of hack/testbed."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from quckchat.core.events import Event
from quckchat.core.objects import ObjectStore
from tests.support import TestKeys, fresh_bucket, fresh_documents, server
from tests.worlds.identity import new_user
from tests.worlds.org import SERVICES, Org, running_org

WORLDS = ["local", "s3"]
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The S3 world runs on the real document store and clamd as well."""
    for item in items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        if item.path.is_relative_to(HERE) and "s3" in params.values():
            item.add_marker("mongodb")
            item.add_marker("clamav")


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

    async def start(self, user: str, workspace_id: str, data: bytes, **body: Any) -> httpx.Response:
        body = {"workspace_id": workspace_id, "name": "a.bin", "size": len(data), **body}
        return await self.api.post("/", json=body, headers=self.auth(user))

    async def send(self, url: str, data: bytes, headers: dict[str, str]) -> httpx.Response:
        """A PUT to a presigned URL: the S3 server's own, or the file service's route for the
        local store."""
        parts = urlsplit(url)
        if parts.path.startswith("/api/v1/files/"):
            path = parts.path.removeprefix("/api/v1/files") + "?" + parts.query
            return await self.api.put(path, content=data, headers=headers)
        async with httpx.AsyncClient() as client:
            return await client.put(url, content=data, headers=headers)

    async def upload(
        self, user: str, workspace_id: str, data: bytes, **body: Any
    ) -> dict[str, Any]:
        """Create, send by the plan (one PUT or presigned parts) and complete: the file."""
        started = await self.start(user, workspace_id, data, **body)
        assert started.status_code == 201, started.text
        created = started.json()
        plan, file_id = created["upload"], created["file"]["id"]
        parts = []
        if plan["method"] == "put":
            sent = await self.send(plan["url"], data, plan["headers"])
            assert sent.status_code == 200, sent.text
        else:
            size = plan["part_size"]
            for part in plan["parts"]:
                at = (part["number"] - 1) * size
                sent = await self.send(part["url"], data[at : at + size], {})
                assert sent.status_code == 200, sent.text
                parts.append({"number": part["number"], "etag": sent.headers["ETag"]})
        done = await self.api.post(
            f"/{file_id}/complete", json={"parts": parts}, headers=self.auth(user)
        )
        assert done.status_code == 200, done.text
        file: dict[str, Any] = done.json()
        return file


# Random bytes could start like an executable (`MZ`), which the workspace's limits refuse.
NOISE_HEADER = b"QuckChat test bytes\n"


def noise(size: int) -> bytes:
    """`size` bytes libmagic calls application/octet-stream, random past a fixed header."""
    return (NOISE_HEADER + os.urandom(size))[:size]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module", params=WORLDS)
async def files(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, module_keys: TestKeys
) -> AsyncIterator[Files]:
    async with AsyncExitStack() as stack:
        overrides: dict[str, Any] = {}
        kind = "embedded"
        if request.param == "s3":
            kind = "mongodb"
            overrides = await stack.enter_async_context(fresh_bucket())
            overrides["clamd_url"] = server("clamav")
        documents_url = await stack.enter_async_context(fresh_documents(kind))
        path = tmp_path_factory.mktemp("files")
        async with running_org(
            "sqlite",
            path,
            module_keys,
            services=[*SERVICES, "file"],
            mongodb_url=documents_url,
            **overrides,
        ) as org:
            yield Files(org, request.param)
