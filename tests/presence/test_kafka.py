"""Presence on the real Kafka broker and Redis: a heartbeat's change reaches the topic."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from quckchat.core.events import Event, KafkaBus
from tests.presence.conftest import SERVICES, register
from tests.support import TestKeys, server
from tests.worlds.identity import new_user
from tests.worlds.org import running_org


@pytest.mark.kafka
@pytest.mark.redis
async def test_a_change_goes_out_on_the_presence_topic(tmp_path: Path, keys: TestKeys) -> None:
    bootstrap = server("kafka")
    async with running_org(
        "sqlite",
        tmp_path,
        keys,
        services=SERVICES,
        kafka_bootstrap=bootstrap,
        redis_url=server("redis"),
    ) as org:
        presence = org.runtime("presence")
        assert isinstance(presence.events, KafkaBus)
        received: asyncio.Queue[Event] = asyncio.Queue()
        watcher = KafkaBus(bootstrap, client_id="presence-test", prefix=presence.events.prefix)
        watcher.subscribe(f"watch-{new_user()}", ["quckchat.presence"], received.put)
        await watcher.start()
        try:
            alice = new_user()
            await register(org, alice)
            workspace = await org.create_workspace(alice)
            response = await org.mesh.client("presence").post(
                "/heartbeat", json={"device_id": "phone"}, headers=org.auth(alice)
            )
            assert response.status_code == 204, response.text
            async with asyncio.timeout(60):
                event = await received.get()
            assert event.type == "presence.changed"
            assert event.key == alice
            assert event.data["status"] == "online"
            assert event.data["workspace_id"] == workspace["id"]
            health = (await org.mesh.client("presence").get("/health")).json()
            assert health["dependencies"] == {
                "database": "healthy",
                "redis": "healthy",
                "kafka": "healthy",
            }
        finally:
            await watcher.stop()
