"""The sweeper: users whose devices all went silent turn offline, exactly once, whichever
replicas sweep at the same time; a change whose event could not go out is announced later."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest

from quckchat.core import outbox
from quckchat.core.events import Event
from quckchat.presence import announce, devices, store, sweeper
from tests.presence.conftest import World, register, replica
from tests.worlds.identity import new_user

pytestmark = pytest.mark.redis


async def test_silent_users_go_offline_once_across_replicas(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devices, "DEVICE_TTL", 2)
    async with replica(world) as second:
        users = [new_user() for _ in range(12)]
        for user in users:
            await register(world.org, user)
            await world.beat(user, "phone")
            await world.beat(user, "tablet", active=False)
        keeper = users.pop()
        await asyncio.sleep(2.4)
        # The keeper's phone went silent too, but its tablet beats just now: a whole TTL for
        # the sweeps to finish in, however loaded the machine.
        await world.beat(keeper, "tablet")
        sweeps = [sweeper.silence(rt) for rt in (world.runtime, second) for _ in range(3)]
        await asyncio.gather(*sweeps)
        # Before the keeper's last heartbeat ages out too.
        assert (await world.seen_by(world.alice, keeper))["status"] == "online"

    def offline_of(events: list[Event]) -> list[Event]:
        # The keeper goes offline too, later, once its own last heartbeat ages out.
        return [e for e in events if e.data["status"] == "offline" and e.data["user_id"] in users]

    offline = offline_of(
        await world.events_until(
            lambda events: {e.data["user_id"] for e in offline_of(events)} >= set(users)
        )
    )
    assert sorted(e.data["user_id"] for e in offline) == sorted(users)
    assert len({e.id for e in offline}) == len(users)
    for user in users:
        found = await world.seen_by(world.alice, user)
        assert found["status"] == "offline"
        me = (await world.presence.get("/me", headers=world.auth(user))).json()
        assert me["devices"] == []
        # Last seen is the last heartbeat, not the moment the sweeper noticed.
        event = next(e for e in offline if e.data["user_id"] == user)
        assert datetime.fromisoformat(event.data["last_seen"]) == datetime.fromisoformat(
            found["last_seen"]
        )


async def test_an_unannounced_change_is_announced_later_under_the_same_ids(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = world.alice
    runtime = world.runtime
    working = runtime.http.client
    runtime.http.client = httpx.AsyncClient(base_url="http://127.0.0.1:9")  # nobody there
    try:
        await world.beat(alice)  # the heartbeat itself succeeds
    finally:
        await runtime.http.client.aclose()
        runtime.http.client = working
    assert world.events() == []
    doc = await store.collection(runtime).find_one({"_id": alice})
    assert doc["pending"] is True

    monkeypatch.setattr(outbox, "GRACE", timedelta(0))
    await asyncio.gather(announce.OUTBOX.relay(runtime), announce.OUTBOX.relay(runtime))
    events = world.events()
    version = doc["change_version"]
    assert {e.id for e in events} == {
        f"presence.{alice}.{version}.{world.workspace_id}",
        f"presence.{alice}.{version}.{world.side_id}",
    }
    assert (await store.collection(runtime).find_one({"_id": alice}))["pending"] is False
    assert await announce.OUTBOX.relay(runtime) == 0
