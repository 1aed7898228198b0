"""Role changes leave as events on the service's topic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from quckchat.core.events import Audience, Event, InProcessBus
from quckchat.permission.events import RoleAssigned
from tests.permission.conftest import SERVICE_HEADERS, PermissionApi


class Collector:
    """Subscribes to the permission topic like a consuming service would."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.arrived = asyncio.Event()

    async def __call__(self, event: Event) -> None:
        self.events.append(event)
        self.arrived.set()

    async def wait_for(self, count: int) -> list[Event]:
        async with asyncio.timeout(2):
            while len(self.events) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.events


@pytest.fixture
async def collector(api: PermissionApi) -> AsyncIterator[Collector]:
    collector = Collector()
    bus = InProcessBus(prefix=api.runtime.settings.kafka_topic_prefix)
    bus.subscribe("collector", ["quckchat.permission"], collector)
    await bus.start()
    yield collector
    await bus.stop()


async def test_role_changes_are_emitted(api: PermissionApi, collector: Collector) -> None:
    await api.grant("ann", "owner")
    # The same role again changes nothing and says nothing.
    await api.grant("ann", "owner")
    response = await api.client.put("/roles/mo", json={"role": "member"}, headers=api.user("ann"))
    assert response.status_code == 200
    response = await api.client.put(
        "/internal/roles",
        json={
            "user_id": "mo",
            "role": "channel-admin",
            "tenant": "t1",
            "channel_id": "c1",
            "actor": "ann",
        },
        headers=SERVICE_HEADERS,
    )
    assert response.status_code == 200
    response = await api.client.delete("/roles/mo", headers=api.user("ann"))
    assert response.status_code == 204
    got = await collector.wait_for(5)

    assert [(e.type, e.source, e.key, e.tenant) for e in got] == [
        ("permission.role.assigned", "permission", "ann", "t1"),
        ("permission.role.assigned", "permission", "mo", "t1"),
        ("permission.role.assigned", "permission", "mo", "t1"),
        ("permission.role.revoked", "permission", "mo", "t1"),
        ("permission.role.revoked", "permission", "mo", "t1"),
    ]
    actors = ["service:workspace", "ann", "ann", "ann", "ann"]
    assert [e.data["actor"] for e in got] == actors
    assert got[0].data == {
        "actor": "service:workspace",
        "user_id": "ann",
        "role": "owner",
        "tenant": "t1",
        "channel_id": None,
    }
    assert got[2].data["role"] == "channel-admin"
    assert got[2].data["channel_id"] == "c1"
    # A channel role's change is for the channel; a workspace role's, for its holder.
    assert RoleAssigned.of(got[2]).audience() == got[2].audience == Audience(channel_id="c1")
    assert got[1].audience == Audience(users=("mo",))
    revoked = sorted((e.data["role"], e.data["channel_id"]) for e in got[3:])
    assert revoked == [("channel-admin", "c1"), ("member", None)]


async def test_platform_admin_changes_are_emitted(api: PermissionApi, collector: Collector) -> None:
    path = "/internal/platform-admins/root"
    await api.client.put(path, params={"actor": "boss"}, headers=SERVICE_HEADERS)
    await api.client.delete(path, headers=SERVICE_HEADERS)
    got = await collector.wait_for(2)
    assert [(e.type, e.data) for e in got] == [
        (
            "permission.role.assigned",
            {
                "actor": "boss",
                "user_id": "root",
                "role": "platform-admin",
                "tenant": "platform",
                "channel_id": None,
            },
        ),
        (
            "permission.role.revoked",
            {
                "actor": "service:workspace",
                "user_id": "root",
                "role": "platform-admin",
                "tenant": "platform",
                "channel_id": None,
            },
        ),
    ]
