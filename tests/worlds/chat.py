"""The chat world: the real permission, channel, workspace and message services, plus the one
under test, in one in-process mesh (the thread, bookmark, reminder and search suites use it).

A suite starts the mesh once per module (`chat_mesh`) and gives each test a workspace of its
own (`chat_in`). Everything is made as a client makes it: a workspace (with its #general),
members who join by invite, channels, messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from quckchat.core.events import InProcessBus
from quckchat.core.settings import Settings
from quckchat.core.sql import new_id
from tests.support import TestKeys
from tests.worlds.bus import Observer
from tests.worlds.files import Uploader
from tests.worlds.identity import new_user
from tests.worlds.mesh import Mesh, mesh_settings, running_services

SUPPORT = ["permission", "user", "channel", "workspace", "message"]
# What a message's files take: uploads, and the checks of what a message carries.
STORAGE = ["file", "attachment"]


@dataclass
class Chat:
    """A workspace (its #general, its owner) on the mesh; `observers` watch the topics asked for."""

    mesh: Mesh
    keys: TestKeys
    service: str
    workspace_id: str
    general: str
    owner: str
    observers: dict[str, Observer]

    @property
    def client(self) -> httpx.AsyncClient:
        return self.mesh.client(self.service)

    def auth(self, user: str) -> dict[str, str]:
        return self.keys.header(user)

    async def call(
        self, service: str, method: str, path: str, user: str, **kw: Any
    ) -> dict[str, Any]:
        """A client's call to another service of the mesh, which must succeed."""
        response = await self.mesh.client(service).request(
            method, path, headers=self.auth(user), **kw
        )
        assert response.status_code < 300, response.text
        body: dict[str, Any] = response.json() if response.content else {}
        return body

    async def member(self, role: str = "member") -> str:
        """A new user who joined the workspace by invite (and so is in #general)."""
        user = new_user()
        invite = await self.call(
            "workspace",
            "POST",
            f"/{self.workspace_id}/invites",
            self.owner,
            json={"kind": "link", "max_uses": 1},
        )
        await self.call("workspace", "POST", "/join", user, json={"token": invite["token"]})
        if role != "member":
            path = f"/{self.workspace_id}/members/{user}/role"
            await self.call("workspace", "PUT", path, self.owner, json={"role": role})
        return user

    async def channel(self, name: str, created_by: str, *members: str, kind: str = "public") -> str:
        """A channel of the workspace; its creator is its channel admin."""
        body = {"workspace_id": self.workspace_id, "name": name, "kind": kind, "members": members}
        return str((await self.call("channel", "POST", "/", created_by, json=body))["id"])

    async def upload(self, user: str, data: bytes, **body: Any) -> str:
        """A file uploaded to the workspace (a mesh started with `files`); its id."""
        uploader = Uploader(self.mesh.client("file"), self.auth)
        return str((await uploader.upload(user, self.workspace_id, data, **body))["id"])

    async def post(
        self, user: str, text: str, *, channel_id: str | None = None, parent_id: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"channel_id": channel_id or self.general, "text": text}
        if parent_id is not None:
            body["parent_id"] = parent_id
        response = await self.mesh.client("message").post("/", json=body, headers=self.auth(user))
        assert response.status_code == 201, response.text
        message: dict[str, Any] = response.json()
        return message


def _observe(bus: InProcessBus, topics: list[str]) -> Observer:
    queue = bus.hub.attach(f"observer-{new_id()}", tuple(bus.prefix + t for t in topics))
    return Observer(queue)


@asynccontextmanager
async def chat_mesh(
    service: str, sql_url: str, tmp_path: Path, keys: TestKeys, *, files: bool = False
) -> AsyncIterator[Mesh]:
    """The service under test on `sql_url` (its neighbours on SQLite), to share between tests;
    with `files`, the file and attachment services too (embedded stores), so messages carry
    files uploaded for real."""
    base = mesh_settings(data_dir=tmp_path)

    def settings_for(name: str, shared: Settings) -> Settings:
        return shared.model_copy(update={"database_url": sql_url}) if name == service else shared

    storage = STORAGE if files else []
    names = [*SUPPORT[:-1], *storage, SUPPORT[-1], service]
    async with running_services(names, base, keys, settings_for) as mesh:
        yield mesh


@asynccontextmanager
async def chat_in(
    mesh: Mesh, keys: TestKeys, service: str, *, observe: list[str]
) -> AsyncIterator[Chat]:
    """A fresh workspace on a running mesh, with observers of `observe` for this test alone."""
    bus = mesh.runtime(service).events
    assert isinstance(bus, InProcessBus)
    observers = {topic: _observe(bus, [f"quckchat.{topic}"]) for topic in observe}
    try:
        chat = Chat(mesh, keys, service, "", "", new_user(), observers)
        made = await chat.call("workspace", "POST", "/", chat.owner, json={"name": "Acme"})
        chat.workspace_id = made["id"]
        mine = await chat.call(
            "channel", "GET", "/", chat.owner, params={"workspace_id": made["id"]}
        )
        chat.general = next(c["id"] for c in mine["items"] if c["name"] == "general")
        yield chat
    finally:
        for observer in observers.values():
            bus.hub.detach(observer.queue)


def chat_fixtures(service: str, *, observe: list[str]) -> tuple[Any, Any]:
    """The `mesh` (once per module, on each SQL backend) and `chat` (per test) fixtures of a
    suite for `service`: a conftest assigns them to those two names."""

    @pytest.fixture(scope="module", name="mesh")
    async def mesh_fixture(
        module_sql_url: str, tmp_path_factory: pytest.TempPathFactory, module_keys: TestKeys
    ) -> AsyncIterator[Mesh]:
        path = tmp_path_factory.mktemp(service)
        async with chat_mesh(service, module_sql_url, path, module_keys) as mesh:
            yield mesh

    @pytest.fixture(name="chat")
    async def chat_fixture(mesh: Mesh, module_keys: TestKeys) -> AsyncIterator[Chat]:
        async with chat_in(mesh, module_keys, service, observe=observe) as chat:
            yield chat

    return mesh_fixture, chat_fixture
