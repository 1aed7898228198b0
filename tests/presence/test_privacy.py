"""Last seen as each user's privacy setting in the user service allows the viewer."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.presence.conftest import World, register
from tests.worlds.identity import new_user

pytestmark = pytest.mark.redis


async def test_last_seen_follows_everyone_contacts_and_nobody(world: World) -> None:
    alice, bob, eve = world.alice, world.bob, world.eve
    await world.beat(alice)
    own = (await world.presence.get("/me", headers=world.auth(alice))).json()["last_seen"]
    assert own is not None
    assert (await world.seen_by(bob, alice))["last_seen"] == own

    await world.settings(alice, last_seen="contacts")
    assert (await world.seen_by(bob, alice))["last_seen"] is None
    users = world.org.mesh.client("user")
    added = await users.put(f"/me/contacts/{bob}", headers=world.auth(alice))
    assert added.status_code == 201, added.text
    assert (await world.seen_by(bob, alice))["last_seen"] == own
    assert (await world.seen_by(eve, alice))["last_seen"] is None

    await world.settings(alice, last_seen="nobody")
    assert (await world.seen_by(bob, alice))["last_seen"] is None
    assert (await world.seen_by(alice, alice))["last_seen"] == own  # always one's own
    assert (await world.seen_by(bob, alice))["status"] == "online"  # status is not hidden


async def test_a_blocked_viewer_does_not_see_last_seen(world: World) -> None:
    alice, bob = world.alice, world.bob
    await world.beat(alice)
    users = world.org.mesh.client("user")
    assert (await users.post(f"/me/blocks/{bob}", headers=world.auth(alice))).is_success
    assert (await world.seen_by(bob, alice))["last_seen"] is None
    assert (await world.seen_by(world.eve, alice))["last_seen"] is not None


async def test_the_query_applies_each_users_setting(world: World) -> None:
    shy, open_ = new_user(), new_user()
    for user in (shy, open_):
        await register(world.org, user)
        await world.beat(user)
    await world.settings(shy, last_seen="nobody")
    response = await world.presence.post(
        "/query", json={"user_ids": [shy, open_]}, headers=world.auth(world.bob)
    )
    assert [p["last_seen"] is None for p in response.json()] == [True, False]
    internal = await world.presence.post(
        "/internal/presence/query",
        json={"user_ids": [shy, open_]},
        headers={"X-QuckChat-Caller": "notification-orchestrator"},
    )
    assert [p["last_seen"] is None for p in internal.json()] == [False, False]


async def test_events_carry_last_seen_only_when_everyone_may_see_it(world: World) -> None:
    alice, bob = world.alice, world.bob
    await world.settings(bob, last_seen="contacts")
    await world.beat(alice)
    await world.beat(bob)
    for device_owner in (alice, bob):
        response = await world.presence.post(
            "/disconnect", json={"device_id": "phone"}, headers=world.auth(device_owner)
        )
        assert response.status_code == 204
    offline = {
        e.data["user_id"]: e.data["last_seen"]
        for e in world.events()
        if e.data["status"] == "offline"
    }
    assert offline[alice] is not None
    assert offline[bob] is None


async def test_going_offline_moves_the_profiles_last_seen(world: World) -> None:
    alice = world.alice
    await world.beat(alice)
    response = await world.presence.post(
        "/disconnect", json={"device_id": "phone"}, headers=world.auth(alice)
    )
    assert response.status_code == 204
    seen = datetime.fromisoformat((await world.seen_by(alice, alice))["last_seen"])
    profile = await world.org.mesh.client("user").get("/me", headers=world.auth(alice))
    assert datetime.fromisoformat(profile.json()["last_seen_at"]) == seen.replace(microsecond=0)
