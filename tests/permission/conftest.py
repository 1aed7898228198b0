"""A running permission service on each SQL backend, with helpers to call it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from tests.support import TestKeys, running_app

SERVICE_HEADERS = {"X-QuckChat-Caller": "workspace"}


@dataclass
class PermissionApi:
    client: httpx.AsyncClient
    runtime: Runtime
    keys: TestKeys

    def user(self, user_id: str, tenant: str = "t1") -> dict[str, str]:
        return self.keys.header(user_id, tenant=tenant)

    async def grant(
        self, user_id: str, role: str, tenant: str = "t1", channel_id: str | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"user_id": user_id, "role": role, "tenant": tenant}
        if channel_id is not None:
            body["channel_id"] = channel_id
        response = await self.client.put("/internal/roles", json=body, headers=SERVICE_HEADERS)
        assert response.status_code == 200, response.text
        return response

    async def allowed(self, subject: str, obj: str, action: str, tenant: str = "t1") -> bool:
        response = await self.client.post(
            "/internal/check",
            json={"subject": subject, "object": obj, "action": action, "tenant": tenant},
            headers=SERVICE_HEADERS,
        )
        assert response.status_code == 200, response.text
        allowed: bool = response.json()["allowed"]
        return allowed


def settings_for(sql_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        service="permission",
        database_url=sql_url,
        data_dir=tmp_path,
        # Each test its own topics, so events of other tests never reach its collectors.
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:8]}.",
        **overrides,
    )


@pytest.fixture
async def api(sql_url: str, tmp_path: Path, keys: TestKeys) -> AsyncIterator[PermissionApi]:
    async with running_app("permission", settings_for(sql_url, tmp_path), keys=keys) as (
        _app,
        client,
        runtime,
    ):
        yield PermissionApi(client, runtime, keys)
