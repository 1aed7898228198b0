"""`quckchat.core.authz`: guarding another service's routes with the permission service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import Depends, FastAPI

from quckchat.core import errors
from quckchat.core.authz import PlatformAdmin, is_allowed, require
from quckchat.core.http import ServiceClient
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from quckchat.core.tokens import Principal
from tests.support import TestKeys, running_app

CAN_READ_CHANNEL = Depends(require("channel:{channel_id}", "read"))


def guarded_app(runtime: Runtime) -> FastAPI:
    """A stand-in for another service whose routes are guarded by `require`."""
    app = FastAPI()
    errors.install(app)
    app.state.runtime = runtime

    @app.get("/settings")
    async def settings(
        principal: Principal = Depends(require("settings", "manage")),
    ) -> dict[str, str]:
        return {"user_id": principal.user_id}

    @app.get("/channels/{channel_id}", dependencies=[CAN_READ_CHANNEL])
    async def channel(channel_id: str) -> dict[str, str]:
        return {"channel_id": channel_id}

    @app.get("/platform")
    async def platform(admin: PlatformAdmin) -> dict[str, str]:
        return {"admin": admin.user_id}

    return app


@dataclass
class Setup:
    client: httpx.AsyncClient
    runtime: Runtime
    keys: TestKeys

    async def grant(self, user_id: str, role: str, channel_id: str | None = None) -> None:
        body = {"user_id": user_id, "role": role, "tenant": "t1"}
        if channel_id:
            body["channel_id"] = channel_id
        await self.runtime.http.json("permission", "PUT", "/internal/roles", json=body)

    async def get(self, path: str, user_id: str, tenant: str = "t1") -> httpx.Response:
        return await self.client.get(path, headers=self.keys.header(user_id, tenant=tenant))


@pytest.fixture
async def setup(tmp_path: Path, keys: TestKeys) -> AsyncIterator[Setup]:
    settings = Settings(service="permission", data_dir=tmp_path)
    async with running_app("permission", settings, keys=keys) as (permission_app, _, runtime):
        # The guarded app reaches the permission service in-process, as over the network.
        await runtime.http.close()
        runtime.http = ServiceClient(
            settings, caller="workspace", transport=httpx.ASGITransport(app=permission_app)
        )
        transport = httpx.ASGITransport(app=guarded_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://guarded") as client:
            yield Setup(client, runtime, keys)


async def test_is_allowed_asks_the_permission_service(setup: Setup) -> None:
    await setup.grant("ann", "admin")
    ask = {"object": "settings", "action": "manage"}
    assert await is_allowed(setup.runtime, subject="ann", tenant="t1", **ask)
    assert not await is_allowed(setup.runtime, subject="ann", tenant="t2", **ask)
    assert not await is_allowed(setup.runtime, subject="bob", tenant="t1", **ask)


async def test_require_lets_the_allowed_through_in_the_tokens_tenant(setup: Setup) -> None:
    await setup.grant("ann", "admin")
    await setup.grant("mo", "member")

    response = await setup.get("/settings", "ann")
    assert (response.status_code, response.json()) == (200, {"user_id": "ann"})

    for user_id, tenant in (("mo", "t1"), ("ann", "t2")):
        response = await setup.get("/settings", user_id, tenant)
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/forbidden")

    response = await setup.client.get("/settings")
    assert response.status_code == 401


async def test_require_fills_the_object_from_path_parameters(setup: Setup) -> None:
    await setup.grant("mo", "member")
    await setup.grant("mo", "channel-member", channel_id="c1")
    assert (await setup.get("/channels/c1", "mo")).status_code == 200
    response = await setup.get("/channels/c2", "mo")
    assert response.status_code == 403
    assert response.json()["detail"] == "you may not read channel:c2"


async def test_platform_admin_is_decided_by_the_permission_service(setup: Setup) -> None:
    await setup.grant("ann", "owner")
    # Whatever a token claims, only the permission service makes a platform admin.
    assert (await setup.get("/platform", "ann", "platform")).status_code == 403
    token = setup.keys.mint("ann", tenant="t1", roles=["platform-admin"])
    response = await setup.client.get("/platform", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403

    await setup.runtime.http.json("permission", "PUT", "/internal/platform-admins/ann")
    response = await setup.get("/platform", "ann")
    assert (response.status_code, response.json()) == (200, {"admin": "ann"})


async def test_an_unreachable_permission_service_is_a_503(tmp_path: Path, keys: TestKeys) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    settings = Settings(service="permission", data_dir=tmp_path)
    async with running_app("permission", settings, keys=keys) as (_, _client, runtime):
        await runtime.http.close()
        runtime.http = ServiceClient(
            settings, caller="workspace", transport=httpx.MockTransport(refuse)
        )
        transport = httpx.ASGITransport(app=guarded_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://guarded") as client:
            response = await client.get("/settings", headers=keys.header("ann", tenant="t1"))
    assert response.status_code == 503
    assert response.json()["type"].endswith("/unavailable")
