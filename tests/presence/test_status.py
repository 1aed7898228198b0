"""A chosen status: away, do-not-disturb (that ends on time), and invisible."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from quckchat.core.sql import utcnow
from quckchat.presence import sweeper
from tests.presence.conftest import World
from tests.worlds.problems import assert_problem

pytestmark = pytest.mark.redis


async def test_away_and_dnd_win_over_the_devices_while_connected(world: World) -> None:
    alice, bob = world.alice, world.bob
    me = await world.choose(alice, status="dnd")
    assert me["status"] == "offline"  # no device yet: chosen, but not connected
    await world.beat(alice)
    assert (await world.seen_by(bob, alice))["status"] == "dnd"
    await world.choose(alice, status="away")
    assert (await world.seen_by(bob, alice))["status"] == "away"
    back = await world.choose(alice, status="online")
    assert back["status"] == "online" and back["chosen"] == "online"
    statuses = [e.data["status"] for e in world.events() if e.data["workspace_id"] == world.side_id]
    assert statuses == ["dnd", "away", "online"]


async def test_dnd_ends_at_its_time_once(world: World) -> None:
    alice = world.alice
    await world.beat(alice)
    until = utcnow() + timedelta(seconds=1)
    me = await world.choose(alice, status="dnd", dnd_until=until.isoformat())
    assert me["status"] == "dnd"
    assert abs(datetime.fromisoformat(me["dnd_until"]) - until) < timedelta(milliseconds=2)
    await asyncio.sleep(1.1)
    await asyncio.gather(*(sweeper.end_dnd(world.runtime) for _ in range(3)))
    me = (await world.presence.get("/me", headers=world.auth(alice))).json()
    assert (me["chosen"], me["status"], me["dnd_until"]) == ("online", "online", None)
    found = await world.events_until(
        lambda events: sum(e.data["workspace_id"] == world.side_id for e in events) >= 3
    )
    statuses = [e.data["status"] for e in found if e.data["workspace_id"] == world.side_id]
    assert statuses == ["online", "dnd", "online"]


async def test_invisible_looks_offline_and_keeps_last_seen_still(world: World) -> None:
    alice, bob = world.alice, world.bob
    await world.beat(alice)
    hidden = await world.choose(alice, status="offline")
    seen = (await world.seen_by(bob, alice))["last_seen"]
    assert hidden["status"] == "offline" and hidden["chosen"] == "offline"
    assert (await world.seen_by(bob, alice))["status"] == "offline"
    await asyncio.sleep(0.01)
    await world.beat(alice)
    assert (await world.seen_by(bob, alice)) == {
        "user_id": alice,
        "status": "offline",
        "last_seen": seen,
    }
    await world.choose(alice, status="online")
    assert (await world.seen_by(bob, alice))["status"] == "online"


async def test_bad_choices_are_422_problems(world: World) -> None:
    alice = world.alice
    later = (utcnow() + timedelta(hours=1)).isoformat()
    for body in (
        {"status": "busy"},
        {"status": "away", "dnd_until": later},
        {"status": "dnd", "dnd_until": (utcnow() - timedelta(minutes=1)).isoformat()},
        {"status": "dnd", "dnd_until": "2030-01-01T09:00:00"},
        {"status": "dnd", "until": later},
        {},
    ):
        response = await world.presence.put("/me", json=body, headers=world.auth(alice))
        assert_problem(response, 422)
    posts: tuple[tuple[str, dict[str, Any]], ...] = (
        ("/heartbeat", {"device_id": ""}),
        ("/heartbeat", {"device_id": "x/y"}),
        ("/heartbeat", {"device_id": "phone", "active": "maybe"}),
        ("/disconnect", {}),
        ("/query", {"user_ids": []}),
        ("/query", {"user_ids": [f"u{i}" for i in range(201)]}),
        ("/typing", {"channel_id": "bad id"}),
    )
    for path, sent in posts:
        response = await world.presence.post(path, json=sent, headers=world.auth(alice))
        assert_problem(response, 422)
    assert_problem(await world.presence.get("/me"), 401)
    assert_problem(await world.presence.post("/heartbeat", json={"device_id": "a"}), 401)
    assert_problem(
        await world.presence.post("/internal/presence/query", json={"user_ids": ["a"]}), 401
    )
