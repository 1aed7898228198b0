"""Typing indicators: members only, told to the channel at most every few seconds, gone
when the typist stops."""

from __future__ import annotations

import asyncio

import pytest

from quckchat.presence import indicators
from quckchat.realtime.audience import Audience, audience_of
from tests.presence.conftest import World
from tests.worlds.problems import assert_problem

pytestmark = pytest.mark.redis


async def test_a_typist_is_listed_told_to_the_channel_and_expires(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indicators, "TYPING_TTL", 1)
    alice, bob, general = world.alice, world.bob, world.general
    body = {"channel_id": general}
    for _ in range(3):
        response = await world.presence.post("/typing", json=body, headers=world.auth(alice))
        assert response.status_code == 200, response.text
    assert response.json()["user_id"] == alice

    [event] = world.events("presence.typing")  # three calls within TYPING_EVERY: told once
    assert event.data == {
        "workspace_id": world.workspace_id,
        "channel_id": general,
        "user_id": alice,
        "actor": alice,
        "expires_in": 1,
    }
    assert event.key == general
    assert audience_of(event) == Audience(channel_id=general)

    listed = await world.presence.get(
        "/typing", params={"channel_id": general}, headers=world.auth(bob)
    )
    assert [t["user_id"] for t in listed.json()["typing"]] == [alice]
    await asyncio.sleep(1.1)
    listed = await world.presence.get(
        "/typing", params={"channel_id": general}, headers=world.auth(bob)
    )
    assert listed.json() == {"channel_id": general, "typing": []}


async def test_only_members_type_or_see_who_types(world: World) -> None:
    eve, general = world.eve, world.general
    response = await world.presence.post(
        "/typing", json={"channel_id": general}, headers=world.auth(eve)
    )
    assert_problem(response, 404)
    response = await world.presence.get(
        "/typing", params={"channel_id": general}, headers=world.auth(eve)
    )
    assert_problem(response, 404)
    response = await world.presence.post(
        "/typing", json={"channel_id": "missing"}, headers=world.auth(world.alice)
    )
    assert_problem(response, 404)
    assert world.events("presence.typing") == []
