"""Presence across devices: online while any device is active, away when all are idle,
offline with the last one gone; each change announced once to the user's workspaces."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from quckchat.core import events as core_events
from quckchat.core.sql import utcnow
from quckchat.presence import client as presence_client
from quckchat.presence.events import PresenceChanged
from quckchat.presence.schemas import Status
from quckchat.realtime.audience import Audience, audience_of
from tests.presence.conftest import INTERNAL, World
from tests.worlds.problems import assert_problem

pytestmark = pytest.mark.redis


async def test_devices_decide_online_away_and_offline(world: World) -> None:
    alice, bob = world.alice, world.bob
    assert (await world.seen_by(bob, alice))["status"] == "offline"

    await world.beat(alice, "phone")
    await world.beat(alice, "laptop", active=False)
    assert (await world.seen_by(bob, alice))["status"] == "online"
    me = (await world.presence.get("/me", headers=world.auth(alice))).json()
    assert me["devices"] == [
        {"device_id": "laptop", "active": False, "kind": "web"},
        {"device_id": "phone", "active": True, "kind": "web"},
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


async def internal(world: World, *users: str, **body: Any) -> dict[str, dict[str, Any]]:
    response = await world.presence.post(
        "/internal/presence/query", json={"user_ids": list(users), **body}, headers=INTERNAL
    )
    assert response.status_code == 200, response.text
    return {p["user_id"]: p for p in response.json()}


async def beat(world: World, user: str, device: str, agent: str = "", **body: Any) -> None:
    headers = {**world.auth(user), "User-Agent": agent or "python-httpx"}
    response = await world.presence.post(
        "/heartbeat", json={"device_id": device, **body}, headers=headers
    )
    assert response.status_code == 204, response.text


async def test_a_device_kind_is_as_said_else_as_its_user_agent_tells(world: World) -> None:
    alice = world.alice
    await beat(world, alice, "d1", kind="mobile")
    await beat(world, alice, "d2", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148")
    await beat(world, alice, "d3", "Mozilla/5.0 (X11; Linux) QuckChat/1.0 Electron/30.0.0")
    await beat(world, alice, "d4", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    me = (await world.presence.get("/me", headers=world.auth(alice))).json()
    assert [(d["device_id"], d["kind"]) for d in me["devices"]] == [
        ("d1", "mobile"),
        ("d2", "mobile"),
        ("d3", "desktop"),
        ("d4", "web"),
    ]


async def test_only_a_desktop_or_web_client_counts_as_active_for_pushes(world: World) -> None:
    alice, bob = world.alice, world.bob
    await beat(world, alice, "phone", kind="mobile")
    await beat(world, bob, "laptop", kind="desktop", active=False)
    found = await internal(world, alice, bob)
    assert found[alice]["status"] == "online" and not found[alice]["desktop_active"]
    assert not found[bob]["desktop_active"] and found[bob]["desktop_active_at"] is None

    await beat(world, bob, "laptop", kind="desktop")
    await beat(world, alice, "tab", kind="web")
    found = await internal(world, alice, bob)
    assert found[alice]["desktop_active"] and found[bob]["desktop_active"]
    at = datetime.fromisoformat(found[bob]["desktop_active_at"])
    assert utcnow() - timedelta(seconds=5) < at <= utcnow()

    # Idle since, and asked about a window that ended before: not active, still known when.
    await asyncio.sleep(1.1)
    await beat(world, bob, "laptop", kind="desktop", active=False)
    found = await internal(world, bob, active_within=1)
    assert not found[bob]["desktop_active"] and found[bob]["desktop_active_at"] is not None
    # Disconnected, it was still active lately: a push may still wait for the desktop.
    await world.presence.post("/disconnect", json={"device_id": "laptop"}, headers=world.auth(bob))
    assert (await internal(world, bob))[bob]["desktop_active"]
    for bad in (0, 3601, "x"):
        response = await world.presence.post(
            "/internal/presence/query",
            json={"user_ids": [bob], "active_within": bad},
            headers=INTERNAL,
        )
        assert_problem(response, 422)
    response = await world.presence.post(
        "/heartbeat", json={"device_id": "d", "kind": "fridge"}, headers=world.auth(bob)
    )
    assert_problem(response, 422)


async def test_the_internal_answer_carries_the_do_not_disturbs_end(world: World) -> None:
    alice, bob = world.alice, world.bob
    await world.beat(alice)
    await world.beat(bob)
    until = utcnow() + timedelta(hours=1)
    await world.choose(alice, status="dnd", dnd_until=until.isoformat())
    await world.choose(bob, status="dnd")
    found = await internal(world, alice, bob, world.eve)
    assert found[alice]["status"] == "dnd"
    ends = datetime.fromisoformat(found[alice]["dnd_until"])
    assert abs(ends - until) < timedelta(milliseconds=2)
    assert found[bob]["status"] == "dnd" and found[bob]["dnd_until"] is None
    assert found[world.eve]["dnd_until"] is None and found[world.eve]["status"] == "offline"
    await world.choose(alice, status="online")
    assert (await internal(world, alice))[alice]["dnd_until"] is None


async def test_the_client_reads_the_answer(world: World) -> None:
    alice = world.alice
    await beat(world, alice, "tab", kind="web")
    until = utcnow() + timedelta(hours=1)
    await world.choose(alice, status="dnd", dnd_until=until.isoformat())
    # As another service of the mesh asks it.
    found = await presence_client.presences(world.org.runtime("user").http, [alice, world.bob])
    assert found[alice].status == "dnd" and found[alice].active
    ends = found[alice].dnd_until
    assert ends is not None and abs(ends - until) < timedelta(milliseconds=2)
    assert found[world.bob] == presence_client.Presence(user_id=world.bob, status="offline")
