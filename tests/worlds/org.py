"""The organization world: workspace and channel with the real permission and user services, in
one mesh.

Each of them gets its own fresh database on the backend under test; a test sees the events
they publish and acts as any user, in any tenant, through signed tokens. The `org` fixture
starts one such mesh per test module and SQL backend; tests keep apart by fresh users.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from quckchat import catalog
from quckchat.auth.models import Account
from quckchat.core.events import Event, InProcessBus
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from tests.support import SQL_BACKENDS, TestKeys, fresh_database
from tests.worlds.bus import drain, matches
from tests.worlds.identity import new_user
from tests.worlds.mesh import Mesh, mesh_settings, running_services

SERVICES = ["permission", "user", "channel", "workspace"]
INTERNAL = {"X-QuckChat-Caller": "test"}


@dataclass
class Org:
    """The running mesh, with shorthands for what most tests do first."""

    mesh: Mesh
    keys: TestKeys
    queue: asyncio.Queue[Event]
    seen: list[Event] = field(default_factory=list)

    @property
    def workspace(self) -> httpx.AsyncClient:
        return self.mesh.client("workspace")

    @property
    def channel(self) -> httpx.AsyncClient:
        return self.mesh.client("channel")

    def runtime(self, name: str) -> Runtime:
        return self.mesh.runtime(name)

    def auth(self, user: str, tenant: str = "default", **claims: Any) -> dict[str, str]:
        return self.keys.header(user, tenant=tenant, **claims)

    def events(self, *types: str) -> list[Event]:
        """Every event published so far (kept across calls), only of `types` when given."""
        self.seen.extend(drain(self.queue))
        return [e for e in self.seen if not types or e.type in types]

    async def wait_for(self, type_: str, **data: Any) -> Event:
        """The first event of the type whose data holds `data`, waiting a little for it."""
        for _ in range(200):
            for event in self.events(type_):
                if matches(event, type_, data):
                    return event
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {type_} event with {data}")

    async def settle(self) -> None:
        """Let the in-process consumers handle what was just published."""
        await asyncio.sleep(0.05)

    async def allowed(self, user: str, obj: str, action: str, workspace_id: str) -> bool:
        body = await self.runtime("channel").http.json(
            "permission",
            "POST",
            "/internal/check",
            json={"subject": user, "object": obj, "action": action, "tenant": workspace_id},
        )
        return bool(body["allowed"])

    async def create_workspace(
        self, owner: str, *, tenant: str = "default", **body: Any
    ) -> dict[str, Any]:
        body.setdefault("name", "Acme " + uuid.uuid4().hex[:6])
        response = await self.workspace.post("/", json=body, headers=self.auth(owner, tenant))
        assert response.status_code == 201, response.text
        workspace: dict[str, Any] = response.json()
        return workspace

    async def set_settings(self, workspace_id: str, owner: str, **settings: Any) -> None:
        response = await self.workspace.patch(
            f"/{workspace_id}", json={"settings": settings}, headers=self.auth(owner)
        )
        assert response.status_code == 200, response.text

    async def invite(self, workspace_id: str, by: str, **body: Any) -> dict[str, Any]:
        """An invite; without an address, a link for one person unless `max_uses` says more."""
        if "email" not in body and "phone" not in body:
            body = {"kind": "link", "max_uses": 1, **body}
        response = await self.workspace.post(
            f"/{workspace_id}/invites", json=body, headers=self.auth(by)
        )
        assert response.status_code == 201, response.text
        invite: dict[str, Any] = response.json()
        return invite

    async def add(
        self, workspace_id: str, owner: str, user: str, role: str = "member"
    ) -> dict[str, Any]:
        """Bring `user` into the workspace through an invite, in `role`."""
        invite_role = "guest" if role == "guest" else "member"
        invite = await self.invite(workspace_id, owner, role=invite_role)
        response = await self.workspace.post(
            "/join", json={"token": invite["token"]}, headers=self.auth(user)
        )
        assert response.status_code == 201, response.text
        if role not in ("member", "guest"):
            response = await self.workspace.put(
                f"/{workspace_id}/members/{user}/role",
                json={"role": role},
                headers=self.auth(owner),
            )
            assert response.status_code == 200, response.text
        member: dict[str, Any] = response.json()
        return member

    async def set_storage_quota(self, slug: str, max_storage_bytes: int) -> httpx.Response:
        """Change a workspace's storage quota, as the operator does (by its slug)."""
        return await self.workspace.patch(
            f"/internal/workspaces/by-slug/{slug}",
            json={"quotas": {"max_storage_bytes": max_storage_bytes}},
            headers=INTERNAL,
        )

    async def storage(self, workspace_id: str) -> dict[str, Any]:
        """The workspace's quotas and what it uses of them."""
        response = await self.workspace.get(
            f"/internal/workspaces/{workspace_id}/quota", headers=INTERNAL
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def verify_email(self, user_id: str) -> None:
        """Mark the account's email verified, as an OIDC provider vouching for it would."""
        db = self.runtime("auth").db
        assert db is not None
        async with db.session() as session:
            await session.execute(
                update(Account).where(Account.id == user_id).values(email_verified=True)
            )

    async def channels(self, workspace_id: str, user: str) -> dict[str, dict[str, Any]]:
        """The user's channels in the workspace, by name (or id for unnamed ones)."""
        response = await self.channel.get(
            "/", params={"workspace_id": workspace_id, "limit": 200}, headers=self.auth(user)
        )
        assert response.status_code == 200, response.text
        return {c["name"] or c["id"]: c for c in response.json()["items"]}

    async def create_channel(self, workspace_id: str, user: str, **body: Any) -> dict[str, Any]:
        body = {"workspace_id": workspace_id, "kind": "public", **body}
        if body["kind"] in ("public", "private"):
            body.setdefault("name", "c-" + uuid.uuid4().hex[:8])
        response = await self.channel.post("/", json=body, headers=self.auth(user))
        assert response.status_code == 201, response.text
        channel: dict[str, Any] = response.json()
        return channel


@asynccontextmanager
async def running_org(
    kind: str,
    tmp_path: Path,
    keys: TestKeys,
    *,
    services: list[str] = SERVICES,
    **overrides: Any,
) -> AsyncIterator[Org]:
    """The services, each on a fresh database of `kind` (sqlite, mysql or postgres)."""
    async with AsyncExitStack() as stack:
        urls = {
            name: await stack.enter_async_context(fresh_database(kind, tmp_path))
            for name in services
        }
        base = mesh_settings(data_dir=tmp_path, **overrides)

        def settings_for(name: str, shared: Settings) -> Settings:
            return shared.model_copy(update={"database_url": urls[name]})

        mesh = await stack.enter_async_context(running_services(services, base, keys, settings_for))
        queue: asyncio.Queue[Event] = asyncio.Queue()
        bus = mesh.runtime("workspace").events
        if isinstance(bus, InProcessBus):
            prefix = base.kafka_topic_prefix
            observed = [
                n for n in services if n in ("workspace", "channel", "file", "media", "attachment")
            ]
            topics = tuple(prefix + catalog.get(n).topic for n in observed)
            queue = bus.hub.attach("test-observer", topics)
            stack.callback(bus.hub.detach, queue)
        yield Org(mesh, keys, queue)


@pytest.fixture(scope="module", params=SQL_BACKENDS)
async def org(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Org]:
    """One organization mesh per test module and SQL backend; tests keep apart by fresh users."""
    async with running_org(request.param, tmp_path_factory.mktemp("org"), TestKeys()) as org:
        yield org


def documents_org_fixture(services: list[str]) -> Any:
    """A fixture of `services` started once per test module, the SQL ones on SQLite and the
    document store on each backend (embedded, then the real server)."""

    @pytest.fixture(scope="module")
    async def fixture(
        tmp_path_factory: pytest.TempPathFactory,
        module_keys: TestKeys,
        module_documents_url: str | None,
    ) -> AsyncIterator[Org]:
        path = tmp_path_factory.mktemp("org")
        async with running_org(
            "sqlite", path, module_keys, services=services, mongodb_url=module_documents_url
        ) as org:
            yield org

    return fixture


async def team(org: Org, *roles: str) -> tuple[str, str, list[str]]:
    """A workspace (id), its owner and one new user per role."""
    owner = new_user()
    ws = await org.create_workspace(owner)
    if "guest" in roles:
        await org.set_settings(ws["id"], owner, guests_allowed=True)
    users = [new_user() for _ in roles]
    for user, role in zip(users, roles, strict=True):
        await org.add(ws["id"], owner, user, role)
    return ws["id"], owner, users
