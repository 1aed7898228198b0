"""Presence across devices: online while any device is active, away when all are idle,
offline with the last one gone; each change announced once to the user's workspaces."""

from __future__ import annotations

from datetime import datetime

import pytest

from quckchat.core import events as core_events
from quckchat.presence.events import PresenceChanged
from quckchat.presence.schemas import Status
from quckchat.realtime.audience import Audience, audience_of
from tests.presence.conftest import World

pytestmark = pytest.mark.redis


async def test_devices_decide_online_away_and_offline(world: World) -> None:
    alice, bob = world.alice, world.bob
    assert (await world.seen_by(bob, alice))["status"] == "offline"

    await world.beat(alice, "phone")
    await world.beat(alice, "laptop", active=False)
    assert (await world.seen_by(bob, alice))["status"] == "online"
    me = (await world.presence.get("/me", headers=world.auth(alice))).json()
    assert me["devices"] == [
        {"device_id": "laptop", "active": False},
        {"device_id": "phone", "active": True},
    ]
    assert me["chosen"] == "online"

    await world.beat(alice, "phone", active=False)
    assert (await world.seen_by(bob, alice))["status"] == "away"
    await world.beat(alice, "laptop")
    assert (await world.seen_by(bob, alice))["status"] == "online"

    for device in ("phone", "laptop"):
        response = await world.presence.post(
            "/disconnect", json={"device_id": device}, headers=world.auth(alice)
        )
        assert response.status_code == 204
    gone = await world.seen_by(bob, alice)
    assert gone["status"] == "offline"
    assert datetime.fromisoformat(gone["last_seen"]) <= datetime.fromisoformat(
        (await world.presence.get("/me", headers=world.auth(alice))).json()["last_seen"]
    )

    told = [e for e in world.events() if e.data["workspace_id"] == world.side_id]
    # online, away, online, offline: a heartbeat that changes nothing announces nothing.
    assert [e.data["status"] for e in told] == ["online", "away", "online", "offline"]
    last = PresenceChanged.of(told[-1])
    assert last.status == Status.OFFLINE and last.last_seen is not None
    assert told[-1].data["last_seen"] == last.last_seen.isoformat()  # as it always went out


async def test_a_change_reaches_each_of_the_users_workspaces_as_realtime_reads_it(
    world: World,
) -> None:
    alice = world.alice
    await world.beat(alice)
    events = world.events()
    assert sorted(e.data["workspace_id"] for e in events) == sorted(
        [world.workspace_id, world.side_id]
    )
    for event in events:
        assert event.key == alice
        assert event.data["workspace_ids"] == sorted([world.workspace_id, world.side_id])
        assert event.data["status"] == "online"
        assert event.data["user_id"] == alice
        assert audience_of(event) == Audience(
            workspace_id=event.data["workspace_id"], users=frozenset({alice})
        )
    # One change, one event per workspace: ids differ by workspace only.
    assert len({e.id for e in events}) == 2

    lonely = world.eve
    await world.org.mesh.client("workspace").get("/", headers=world.auth(lonely))
    await world.beat(lonely)
    [own] = world.events()
    assert own.data["workspace_ids"] == [world.eve_workspace_id]


async def test_a_user_with_no_workspace_is_announced_to_their_own_devices(world: World) -> None:
    loner = "loner" + world.alice[:8]
    await world.beat(loner)
    [event] = world.events()
    assert event.data["workspace_ids"] == [] and event.data["workspace_id"] is None
    assert audience_of(event) == Audience(users=frozenset({loner}))
    assert event.audience == core_events.Audience(users=(loner,))


async def test_presence_of_many_in_order_and_of_unknown_users(world: World) -> None:
    await world.beat(world.bob)
    stranger = "nobody" + world.bob[:8]
    response = await world.presence.post(
        "/query",
        json={"user_ids": [world.bob, stranger, world.alice, world.bob]},
        headers=world.auth(world.alice),
    )
    assert response.status_code == 200, response.text
    found = response.json()
    assert [p["user_id"] for p in found] == [world.bob, stranger, world.alice]
    assert [p["status"] for p in found] == ["online", "offline", "offline"]
    assert found[1]["last_seen"] is None


async def test_another_tenant_sees_nobody_online(world: World) -> None:
    await world.beat(world.bob)
    outsider = world.auth(world.eve, tenant="elsewhere")
    found = (await world.presence.get(f"/{world.bob}", headers=outsider)).json()
    assert found == {"user_id": world.bob, "status": "offline", "last_seen": None}
