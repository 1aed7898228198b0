"""The channel service's consumers on the real Kafka broker: message and workspace events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from quckchat.core.events import KafkaBus
from tests.channel.test_reads import message_created
from tests.support import SQL_BACKENDS, TestKeys, server
from tests.worlds.identity import new_user
from tests.worlds.org import INTERNAL, Org, running_org
from tests.worlds.waiting import eventually


@pytest.fixture(params=SQL_BACKENDS)
async def org(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Org]:
    bootstrap = server("kafka")
    prefix = f"t{uuid.uuid4().hex[:12]}."
    async with running_org(
        request.param,
        tmp_path,
        TestKeys(),
        kafka_bootstrap=bootstrap,
        kafka_topic_prefix=prefix,
    ) as org:
        yield org


@pytest.mark.kafka
async def test_messages_and_removals_arrive_over_kafka(org: Org) -> None:
    assert isinstance(org.runtime("channel").events, KafkaBus)
    owner, bob = new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.add(ws["id"], owner, bob)
    channel = await org.create_channel(ws["id"], owner, members=[bob])
    settings = org.runtime("channel").settings
    assert settings.kafka_bootstrap is not None
    message_bus = KafkaBus(
        settings.kafka_bootstrap, client_id="message-test", prefix=settings.kafka_topic_prefix
    )
    await message_bus.start()
    try:
        event = message_created(channel, 1, owner, mentions=(bob,))
        await message_bus.publish("quckchat.message", event)
        await message_bus.publish("quckchat.message", event)
        await message_bus.publish("quckchat.message", message_created(channel, 2, owner))
    finally:
        await message_bus.stop()

    async def counted() -> bool:
        response = await org.channel.get(f"/{channel['id']}", headers=org.auth(bob))
        return bool(response.json()["last_seq"] == 2)

    assert await eventually(counted, within=60.0, poll=0.5), "the consumer never caught up"
    view = (await org.channel.get(f"/{channel['id']}", headers=org.auth(bob))).json()
    assert view["unread"] == 2 and view["mentions"] == 1

    removed = await org.workspace.delete(f"/{ws['id']}/members/{bob}", headers=org.auth(owner))
    assert removed.status_code == 204

    async def gone() -> bool:
        response = await org.channel.get(f"/internal/users/{bob}/channels", headers=INTERNAL)
        return bool(response.json() == [])

    assert await eventually(gone, within=60.0, poll=0.5), "the consumer never caught up"
    health = await org.channel.get("/health")
    assert health.json()["dependencies"]["kafka"] == "healthy"
