"""The user service on each SQL backend, with a view of the events it emits."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quckchat.core.events import Event, InProcessBus
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from quckchat.user.consumers import on_auth_event
from tests.support import TestKeys, running_app
from tests.worlds.bus import drain
from tests.worlds.identity import registered

INTERNAL = {"X-QuckChat-Caller": "notification"}


def auth_event(type_: str, user: str, *, tenant: str | None = None, **data: Any) -> Event:
    """An event as the auth service emits it about `user`."""
    return Event(type=type_, source="auth", key=user, data={"user_id": user, **data}, tenant=tenant)


@dataclass
class UserApp:
    asgi: FastAPI
    client: httpx.AsyncClient
    runtime: Runtime
    keys: TestKeys
    queue: asyncio.Queue[Event]

    def auth(self, user: str, tenant: str = "default") -> dict[str, str]:
        return self.keys.header(user, tenant=tenant)

    async def register(
        self,
        user: str,
        *,
        phone: str | None = None,
        name: str | None = None,
        tenant: str = "default",
    ) -> str:
        """A user as auth would create them: the registration event, then a display name."""
        # Auth sends no tenant today; the user service then files the user under the default.
        event_tenant = None if tenant == "default" else tenant
        await self.deliver(registered(user, phone=phone, tenant=event_tenant))
        if name is not None:
            body = {"display_name": name}
            response = await self.client.patch("/me", json=body, headers=self.auth(user, tenant))
            assert response.status_code == 200, response.text
        self.emitted()
        return user

    async def deliver(self, event: Event) -> None:
        """Hand an auth event to the service's consumer, as the bus would."""
        await on_auth_event(self.runtime, event)

    async def get(self, path: str, user: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.auth(user), **kw)

    def emitted(self) -> list[Event]:
        """The user-service events published since the last call (the bus routes at once)."""
        return drain(self.queue)


@pytest.fixture
async def app(sql_url: str, tmp_path: Path, keys: TestKeys) -> AsyncIterator[UserApp]:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    settings = Settings(
        service="user", database_url=sql_url, data_dir=tmp_path, kafka_topic_prefix=prefix
    )
    async with running_app("user", settings, keys=keys) as (asgi, client, runtime):
        assert isinstance(runtime.events, InProcessBus)
        hub = runtime.events.hub
        queue = hub.attach("test-observer", (prefix + "quckchat.user",))
        try:
            yield UserApp(asgi, client, runtime, keys, queue)
        finally:
            hub.detach(queue)
