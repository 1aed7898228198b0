"""The in-process mesh: real services that reach each other by name and share events."""

from __future__ import annotations

import asyncio
from pathlib import Path

from quckchat.core.events import Event
from tests.support import TestKeys
from tests.worlds.mesh import mesh_settings, running_services

TOPIC = "quckchat.permission"


def sample(n: int) -> Event:
    """An event on the permission service's topic, published straight to its bus (its own
    events go through its outbox, after a change commits)."""
    return Event(type="permission.test", source="permission", key="k", data={"n": n}, tenant=None)


async def test_services_reach_each_other_by_name_and_share_the_bus(
    tmp_path: Path, keys: TestKeys
) -> None:
    async with running_services(
        ["permission", "user"], mesh_settings(data_dir=tmp_path), keys
    ) as mesh:
        health = await mesh.runtime("permission").http.json("user", "GET", "/health")
        assert health["status"] == "healthy"
        seen: list[Event] = []
        done = asyncio.Event()

        async def collect(event: Event) -> None:
            seen.append(event)
            done.set()

        bus = mesh.runtime("user").events
        permission = mesh.runtime("permission").events
        await permission.publish(TOPIC, sample(1))
        assert bus is not permission
        # The user service's own consumer ignores it; a subscriber on the same prefix sees it.
        listener = type(bus)(prefix=mesh.runtime("user").settings.kafka_topic_prefix)
        listener.subscribe("mesh-test", [TOPIC], collect)
        await listener.start()
        try:
            await permission.publish(TOPIC, sample(2))
            await asyncio.wait_for(done.wait(), 5)
        finally:
            await listener.stop()
        assert seen[0].data == {"n": 2}
