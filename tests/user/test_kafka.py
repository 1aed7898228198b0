"""The consumer path over the real Kafka broker: an auth event reaches the running service."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from quckchat.core.events import KafkaBus
from quckchat.core.settings import Settings
from tests.support import TestKeys, running_app, server
from tests.worlds.identity import new_user, phone_hash, registered


@pytest.mark.kafka
async def test_registration_over_kafka_makes_the_user_findable(
    sql_url: str, tmp_path: Path, keys: TestKeys
) -> None:
    bootstrap = server("kafka")
    prefix = f"t{uuid.uuid4().hex[:12]}."
    settings = Settings(
        service="user",
        database_url=sql_url,
        data_dir=tmp_path,
        kafka_bootstrap=bootstrap,
        kafka_topic_prefix=prefix,
    )
    auth_bus = KafkaBus(bootstrap, client_id="auth-test", prefix=prefix)
    await auth_bus.start()
    try:
        async with running_app("user", settings, keys=keys) as (_, client, runtime):
            assert isinstance(runtime.events, KafkaBus)
            newcomer, friend = new_user(), new_user()
            event = registered(newcomer, phone="+4930123456")
            await auth_bus.publish("quckchat.auth", event)
            await auth_bus.publish("quckchat.auth", event)

            body = {"phone_hashes": [phone_hash("+4930123456")]}
            matches: list[dict[str, str]] = []
            for _ in range(120):
                response = await client.post(
                    "/me/contacts/sync", json=body, headers=keys.header(friend)
                )
                assert response.status_code == 200
                matches = response.json()
                if matches:
                    break
                await asyncio.sleep(0.5)
            assert [m["user_id"] for m in matches] == [newcomer]
            health = await client.get("/health")
            assert health.json()["dependencies"]["kafka"] == "healthy"
    finally:
        await auth_bus.stop()
