"""Event-broadcast on the real Kafka broker: a workspace event consumed from Kafka becomes a
broadcast published back to Kafka."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from quckchat.core.events import Audience, Event, KafkaBus
from tests.event_broadcast.conftest import SERVICES
from tests.support import TestKeys, server
from tests.worlds.identity import new_user
from tests.worlds.org import running_org


@pytest.mark.kafka
async def test_a_join_on_kafka_comes_back_as_a_membership_broadcast(
    tmp_path: Path, keys: TestKeys
) -> None:
    bootstrap = server("kafka")
    async with running_org(
        "sqlite", tmp_path, keys, services=SERVICES, kafka_bootstrap=bootstrap
    ) as org:
        runtime = org.runtime("event-broadcast")
        assert isinstance(runtime.events, KafkaBus)
        received: asyncio.Queue[Event] = asyncio.Queue()
        watcher = KafkaBus(bootstrap, client_id="broadcast-test", prefix=runtime.events.prefix)
        watcher.subscribe(f"watch-{new_user()}", ["quckchat.event-broadcast"], received.put)
        await watcher.start()
        try:
            alice, bob = new_user(), new_user()
            workspace = await org.create_workspace(alice)
            await org.add(workspace["id"], alice, bob)
            async with asyncio.timeout(90):
                while True:
                    event = await received.get()
                    if event.data.get("user_id") == bob:
                        break
            assert event.type == "event-broadcast.membership"
            assert event.audience == Audience(workspace_id=workspace["id"])
            assert "audience" not in event.data  # the envelope carries it
            history = await org.mesh.client("event-broadcast").get(
                "/", params={"workspace_id": workspace["id"]}, headers=org.auth(bob)
            )
            assert bob in [b["user_id"] for b in history.json()["items"]]
        finally:
            await watcher.stop()
