"""The consumer path through the real Kafka broker: an auth event becomes an audit entry."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from quckchat.core.events import Event, KafkaBus
from quckchat.core.settings import Settings
from tests.support import TestKeys, running_app, server

pytestmark = pytest.mark.kafka

INTERNAL = {"X-QuckChat-Caller": "test"}


async def wait_for_entries(
    client: httpx.AsyncClient, count: int, within: float = 30.0, **params: str
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within
    while True:
        r = await client.get("/internal/entries", params=params, headers=INTERNAL)
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        await asyncio.sleep(0.25)


async def test_auth_and_admin_events_on_kafka_are_recorded_once(
    tmp_path: Path, keys: TestKeys
) -> None:
    bootstrap = server("kafka")
    prefix = f"t{uuid.uuid4().hex[:12]}."
    settings = Settings(
        service="audit", data_dir=tmp_path, kafka_bootstrap=bootstrap, kafka_topic_prefix=prefix
    )
    producer = KafkaBus(bootstrap, client_id="test-auth", prefix=prefix)
    login = Event(
        type="auth.login.succeeded",
        source="auth",
        key="u-kafka",
        data={"actor": "u-kafka", "user_id": "u-kafka", "method": "otp"},
        tenant="t1",
    )
    suspended = Event(
        type="admin.user.suspended",
        source="admin",
        key="u-kafka",
        data={"actor": "root", "user_id": "u-kafka", "reason": "spam"},
        tenant="platform",
    )
    await producer.start()
    try:
        async with running_app("audit", settings, keys=keys) as (_app, client, _runtime):
            await producer.publish("quckchat.auth", login)
            # At-least-once delivery: the same event again must not add a second entry.
            await producer.publish("quckchat.auth", login)
            await producer.publish("quckchat.admin", suspended)
            items = await wait_for_entries(client, 2)
            await asyncio.sleep(1.0)
            items = await wait_for_entries(client, 2)
            again = await client.get("/internal/entries", headers=INTERNAL)
    finally:
        await producer.stop()
    assert sorted(item["event_id"] for item in items) == sorted([login.id, suspended.id])
    assert len(again.json()["items"]) == 2
    by_action = {item["action"]: item for item in items}
    recorded = by_action["auth.login.succeeded"]
    assert recorded["actor"] == "u-kafka"
    assert recorded["target"] == "u-kafka"
    assert recorded["tenant"] == "t1"
    assert recorded["source"] == "auth"
    assert recorded["data"]["method"] == "otp"
    assert by_action["admin.user.suspended"]["actor"] == "root"
    assert by_action["admin.user.suspended"]["data"]["reason"] == "spam"
