"""The orchestrator on the real MongoDB-protocol server and Kafka: one notice per recipient and
message under redelivery and two replicas; an edit tells only whom it newly mentions; a delete
withdraws what was told."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from quckchat.core.events import Event
from quckchat.notification_orchestrator import logic
from tests.notification_orchestrator.conftest import (
    CREATED,
    DELETED,
    EDITED,
    ORCHESTRATOR,
    change,
    kafka_world,
    message,
)
from tests.support import TestKeys, fresh_documents
from tests.worlds.mesh import replica

pytestmark = [pytest.mark.kafka, pytest.mark.mongodb]


def per_user(events: list[Event], type_: str) -> Counter[str]:
    return Counter(e.data["user_id"] for e in events if e.type == type_)


async def test_a_mention_is_one_notice_per_recipient_under_redelivery_and_two_replicas(
    tmp_path: Path, keys: TestKeys
) -> None:
    async with (
        fresh_documents("mongodb") as url,
        kafka_world(tmp_path, keys, url) as world,
        replica(world.org.mesh, ORCHESTRATOR, keys) as (_, _client, second),
    ):
        body = message(
            world.general,
            world.workspace_id,
            world.alice,
            text="@bob @carol look",
            mentions=[world.bob, world.carol],
        )
        created = change(CREATED, body, world.alice)
        await world.publish(created)
        await world.publish(created)  # redelivered
        # Both replicas handling the very same delivery at once, too.
        await asyncio.gather(
            logic.on_event(world.runtime, created), logic.on_event(second, created)
        )
        found = await world.notices(2)
        assert per_user(found, "notice.decided") == {world.bob: 1, world.carol: 1}
        notice = next(e for e in found if e.data["user_id"] == world.bob)
        assert notice.data["reason"] == "mention"
        assert notice.data["message_id"] == body["id"]
        assert notice.data["media"] == ["in_app", "push"]


async def test_an_edit_tells_only_new_mentions_and_a_delete_withdraws(
    tmp_path: Path, keys: TestKeys
) -> None:
    async with fresh_documents("mongodb") as url, kafka_world(tmp_path, keys, url) as world:
        body = message(
            world.general, world.workspace_id, world.alice, text="@bob", mentions=[world.bob]
        )
        await world.publish(change(CREATED, body, world.alice))
        first = await world.notices(1)
        assert per_user(first, "notice.decided") == {world.bob: 1}

        edited = {**body, "text": "@bob @carol", "mentions": [world.bob, world.carol]}
        await world.publish(change(EDITED, edited, world.alice))
        second = await world.notices(1)
        assert per_user(second, "notice.decided") == {world.carol: 1}

        gone = {**edited, "text": "", "mentions": [], "deleted": True}
        await world.publish(change(DELETED, gone, world.alice))
        third = await world.notices(2)
        assert per_user(third, "notice.withdrawn") == {world.bob: 1, world.carol: 1}
        told = {e.data["notice_id"] for e in first + second}
        assert {e.data["notice_id"] for e in third} == told


async def test_each_members_level_in_the_channel_decides_what_tells_them(
    tmp_path: Path, keys: TestKeys
) -> None:
    async with fresh_documents("mongodb") as url, kafka_world(tmp_path, keys, url) as world:
        org, path = world.org, f"/{world.general}/notifications"
        every = await org.channel.put(path, json={"level": "all"}, headers=org.auth(world.bob))
        assert every.status_code == 200, every.text
        silent = await org.channel.put(path, json={"level": "none"}, headers=org.auth(world.carol))
        assert silent.status_code == 200, silent.text
        plain = message(world.general, world.workspace_id, world.alice, text="lunch?")
        await world.publish(change(CREATED, plain, world.alice))
        first = await world.notices(1)
        assert per_user(first, "notice.decided") == {world.bob: 1}
        assert first[0].data["reason"] == "message" and first[0].data["media"] == [
            "in_app",
            "push",
        ]
        loud = message(
            world.general,
            world.workspace_id,
            world.alice,
            text="@channel now",
            mention_channel=True,
        )
        await world.publish(change(CREATED, loud, world.alice))
        second = await world.notices(1)
        assert per_user(second, "notice.decided") == {world.bob: 1}  # not Carol: level none
        assert second[0].data["reason"] == "mention"
