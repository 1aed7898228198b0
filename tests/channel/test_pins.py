"""Pins: members pin; in announcement-only channels only channel admins; at most MAX_PINS."""

from __future__ import annotations

import uuid

import pytest

from quckchat.channel import pins
from tests.worlds.org import Org, team
from tests.worlds.problems import assert_problem


async def test_members_pin_and_unpin(org: Org) -> None:
    ws, _, (ann, bob, carl) = await team(org, "member", "member", "member")
    channel = await org.create_channel(ws, ann, members=[bob])
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    base = f"/{channel['id']}/pins"
    pinned = await org.channel.put(f"{base}/{first}", headers=org.auth(bob))
    assert pinned.status_code == 201
    assert pinned.json() == {**pinned.json(), "message_id": first, "pinned_by": bob}
    assert (await org.channel.put(f"{base}/{first}", headers=org.auth(ann))).status_code == 200
    await org.channel.put(f"{base}/{second}", headers=org.auth(ann))
    event = await org.wait_for("channel.pinned", channel_id=channel["id"], message_id=first)
    assert event.data["actor"] == bob
    # Anyone who sees the channel sees its pins, newest first.
    listed = (await org.channel.get(base, headers=org.auth(carl))).json()
    assert [p["message_id"] for p in listed["items"]] == [second, first]
    one = await org.channel.get(f"{base}/{first}", headers=org.auth(carl))
    assert one.status_code == 200 and one.json()["pinned_by"] == bob
    assert_problem(await org.channel.put(f"{base}/{uuid.uuid4().hex}", headers=org.auth(carl)), 403)
    assert (await org.channel.delete(f"{base}/{first}", headers=org.auth(ann))).status_code == 204
    await org.wait_for("channel.unpinned", channel_id=channel["id"], message_id=first)
    assert_problem(await org.channel.get(f"{base}/{first}", headers=org.auth(ann)), 404)
    assert_problem(await org.channel.delete(f"{base}/{first}", headers=org.auth(ann)), 404)
    assert_problem(await org.channel.put(f"{base}/bad%20id", headers=org.auth(ann)), 422)
    private = await org.create_channel(ws, ann, kind="private")
    response = await org.channel.get(f"/{private['id']}/pins", headers=org.auth(bob))
    assert_problem(response, 404)


async def test_announcement_channels_and_archived_ones(org: Org) -> None:
    ws, _, (ann, bob) = await team(org, "member", "member")
    channel = await org.create_channel(ws, ann, members=[bob])
    path = f"/{channel['id']}"
    await org.channel.patch(path, json={"announcement_only": True}, headers=org.auth(ann))
    message = uuid.uuid4().hex
    assert_problem(await org.channel.put(f"{path}/pins/{message}", headers=org.auth(bob)), 403)
    assert (
        await org.channel.put(f"{path}/pins/{message}", headers=org.auth(ann))
    ).status_code == 201
    await org.channel.post(path + "/archive", headers=org.auth(ann))
    response = await org.channel.delete(f"{path}/pins/{message}", headers=org.auth(ann))
    assert_problem(response, 409, "channel-archived")


async def test_a_channel_holds_a_bounded_number_of_pins(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pins, "MAX_PINS", 2)
    ws, _, (ann,) = await team(org, "member")
    channel = await org.create_channel(ws, ann)
    for _ in range(2):
        response = await org.channel.put(
            f"/{channel['id']}/pins/{uuid.uuid4().hex}", headers=org.auth(ann)
        )
        assert response.status_code == 201
    response = await org.channel.put(
        f"/{channel['id']}/pins/{uuid.uuid4().hex}", headers=org.auth(ann)
    )
    assert_problem(response, 409, "too-many-pins")
