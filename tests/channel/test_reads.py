"""Unread and mention counts from message events (applied once), and the read pointer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from quckchat.channel.consumers import apply_message_created, apply_messages_created
from quckchat.channel.models import processed_events
from quckchat.core.events import Event
from quckchat.message.events import MessageCreated
from tests.worlds.messages import message_body
from tests.worlds.org import Org, team
from tests.worlds.problems import assert_problem
from tests.worlds.waiting import eventually


def message_created(
    channel: dict[str, Any],
    seq: int,
    sender: str,
    *,
    mentions: tuple[str, ...] = (),
    everyone: bool = False,
) -> Event:
    """An event as the message service emits it for a new message."""
    message = message_body(
        channel_id=channel["id"],
        workspace_id=channel["workspace_id"],
        seq=seq,
        sender_id=sender,
        mentions=list(mentions),
        mention_channel=everyone,
        created_at=datetime(2026, 5, 1, 12, 0, seq, tzinfo=UTC),
    )
    created = MessageCreated(
        workspace_id=message.workspace_id,
        channel_id=message.channel_id,
        actor=sender,
        message_id=message.id,
        seq=seq,
        message=message,
    )
    return Event.of(created, source="message", tenant=None)


async def publish(org: Org, *events: Event) -> None:
    for event in events:
        await org.runtime("channel").events.publish("quckchat.message", event)


async def standing(org: Org, channel: dict[str, Any], user: str) -> dict[str, Any]:
    response = await org.channel.get(f"/{channel['id']}", headers=org.auth(user))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def until(org: Org, channel: dict[str, Any], user: str, **expected: Any) -> dict[str, Any]:
    """The user's view of the channel once the consumer has caught up to `expected`."""

    async def caught_up() -> dict[str, Any] | None:
        body = await standing(org, channel, user)
        return body if all(body[k] == v for k, v in expected.items()) else None

    body: dict[str, Any] | None = await eventually(caught_up, within=4.0)
    assert body is not None, f"{user}'s view of {channel['id']} never reached {expected}"
    return body


async def test_new_messages_count_as_unread_and_mentions(org: Org) -> None:
    ws, _, (ann, bob, carl) = await team(org, "member", "member", "member")
    channel = await org.create_channel(ws, ann, members=[bob, carl])
    await publish(
        org,
        message_created(channel, 1, ann),
        message_created(channel, 2, ann, mentions=(bob, ann)),
        message_created(channel, 3, carl, everyone=True),
    )
    bob_view = await until(org, channel, bob, unread=3)
    assert bob_view["mentions"] == 2 and bob_view["last_seq"] == 3
    assert bob_view["last_message_at"].startswith("2026-05-01T12:00:03")
    # Senders have read their own messages; nobody is counted for mentioning themselves.
    ann_view = await standing(org, channel, ann)
    assert ann_view["unread"] == 1 and ann_view["mentions"] == 1
    carl_view = await standing(org, channel, carl)
    assert carl_view["unread"] == 0 and carl_view["mentions"] == 0
    listed = await org.channels(ws, bob)
    assert listed[channel["name"]]["unread"] == 3 and listed[channel["name"]]["mentions"] == 2


async def test_a_redelivered_message_counts_once(org: Org) -> None:
    ws, _, (ann, bob) = await team(org, "member", "member")
    channel = await org.create_channel(ws, ann, members=[bob])
    event = message_created(channel, 1, ann, mentions=(bob,))
    db = org.runtime("channel").db
    assert db is not None
    async with db.session() as session:
        assert await apply_message_created(session, event=event)
    async with db.session() as session:
        assert not await apply_message_created(session, event=event)
    await publish(org, event, event)
    # An older message delivered late moves nothing back.
    await publish(org, message_created(channel, 2, ann), message_created(channel, 1, ann))
    await until(org, channel, bob, last_seq=2)
    await org.settle()
    view = await standing(org, channel, bob)
    assert view["unread"] == 2 and view["mentions"] == 1
    async with db.session() as session:
        seen = await session.scalar(
            select(func.count())
            .select_from(processed_events)
            .where(processed_events.c.event_id == event.id)
        )
    assert seen == 1


async def test_a_batch_of_new_messages_counts_as_they_would_one_at_a_time(org: Org) -> None:
    ws, _, (ann, bob, carl) = await team(org, "member", "member", "member")
    singly = await org.create_channel(ws, ann, members=[bob, carl])
    batched = await org.create_channel(ws, ann, members=[bob, carl])
    stranger = {**batched, "id": uuid.uuid4().hex}

    def story(channel: dict[str, Any]) -> list[Event]:
        return [
            message_created(channel, 1, ann, mentions=(bob,)),
            message_created(channel, 2, bob),
            message_created(channel, 3, carl, mentions=(bob, carl)),
            message_created(channel, 4, ann, everyone=True),
            message_created(channel, 5, bob, mentions=(ann,)),
        ]

    db = org.runtime("channel").db
    assert db is not None
    for event in story(singly):
        async with db.session() as session:
            await apply_message_created(session, event=event)
    events = story(batched)
    async with db.session() as session:
        assert await apply_messages_created(session, events[:2]) == 2
    # A repeat, an unknown channel and the rest, in one batch: the repeat counts once.
    async with db.session() as session:
        again = [events[1], message_created(stranger, 1, ann), *events[2:], events[2]]
        assert await apply_messages_created(session, again) == 3
    views = []
    for user in (ann, bob, carl):
        one, other = await standing(org, singly, user), await standing(org, batched, user)
        fields = ("unread", "mentions", "last_seq", "last_message_at")
        assert {f: one[f] for f in fields} == {f: other[f] for f in fields}, user
        views.append(other)
    assert all(v["last_seq"] == 5 for v in views) and all(v["mentions"] for v in views)


async def test_unusable_and_unknown_events_are_ignored(org: Org) -> None:
    ws, _, (ann,) = await team(org, "member")
    channel = await org.create_channel(ws, ann)
    db = org.runtime("channel").db
    assert db is not None
    stranger = {**channel, "id": uuid.uuid4().hex}
    valid = message_created(channel, 1, ann)
    broken = Event(type=valid.type, source="message", key=valid.key, data={**valid.data})
    broken.data.pop("seq")
    async with db.session() as session:
        assert not await apply_message_created(session, event=message_created(stranger, 1, ann))
        assert not await apply_message_created(session, event=broken)
    await publish(org, Event(type="message.edited", source="message", key="k", data={}))
    assert (await standing(org, channel, ann))["last_seq"] == 0


async def test_the_read_pointer_moves_forward_and_clears_mentions(org: Org) -> None:
    ws, _, (ann, bob, carl) = await team(org, "member", "member", "member")
    channel = await org.create_channel(ws, ann, members=[bob])
    await publish(
        org, *(message_created(channel, seq, ann, mentions=(bob,)) for seq in range(1, 6))
    )
    await until(org, channel, bob, unread=5, mentions=5)
    path = f"/{channel['id']}/read"
    read = await org.channel.post(path, json={"seq": 3}, headers=org.auth(bob))
    assert read.json() == {
        "channel_id": channel["id"],
        "last_read_seq": 3,
        "unread": 2,
        "mentions": 0,
    }
    event = await org.wait_for("channel.read", channel_id=channel["id"], user_id=bob)
    assert event.data["seq"] == 3
    back = await org.channel.post(path, json={"seq": 1}, headers=org.auth(bob))
    assert back.json()["last_read_seq"] == 3
    assert (
        len([e for e in org.events("channel.read") if e.data["channel_id"] == channel["id"]]) == 1
    )
    for body in ({"seq": -1}, {"seq": "x"}, {}, {"seq": 2**60}):
        assert_problem(await org.channel.post(path, json=body, headers=org.auth(bob)), 422)
    assert_problem(await org.channel.post(path, json={"seq": 1}, headers=org.auth(carl)), 403)
    assert_problem(await org.channel.post(path, json={"seq": 1}), 401)
