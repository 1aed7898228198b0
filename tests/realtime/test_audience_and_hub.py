"""Who gets an event, and how the hub queues it for local clients. Pure, no servers."""

from __future__ import annotations

import asyncio
import json

from quckchat.core.events import Event
from quckchat.realtime.audience import Audience, audience_of
from quckchat.realtime.hub import CLOSE_TOO_SLOW, Client, Hub
from quckchat.realtime.stream import Entry, payload_of


def event(type_: str, **data: object) -> Event:
    return Event(type=type_, source="test", key="k", data=dict(data))


def test_channel_events_go_to_the_channel_personal_ones_to_the_person() -> None:
    assert audience_of(event("message.created", channel_id="c1")) == Audience(channel_id="c1")
    assert audience_of(event("message.hidden", channel_id="c1", user_id="u1")) == Audience(
        users=frozenset({"u1"})
    )
    joined = audience_of(event("channel.member.joined", channel_id="c1", user_id="u2"))
    assert joined == Audience(channel_id="c1", users=frozenset({"u2"}))
    assert audience_of(event("workspace.updated", workspace_id="w1")).workspace_id == "w1"
    explicit = event("event-broadcast.notice", audience={"users": ["a", "b"]}, channel_id="x")
    assert audience_of(explicit) == Audience(users=frozenset({"a", "b"}))
    assert audience_of(event("auth.user.registered", other=1)).empty


def entry(n: int, type_: str, audience: Audience, **data: object) -> Entry:
    return Entry(f"1000-{n}", type_, audience, payload_of(type_, dict(data), audience.channel_id))


def client(user: str, channels: set[str], limit: int = 10) -> Client:
    return Client(user, set(channels), {"w1"}, limit)


def test_dispatch_reaches_members_only_and_follows_membership() -> None:
    hub = Hub()
    alice, bob, outsider = client("alice", {"c1"}), client("bob", set()), client("eve", {"c2"})
    for c in (alice, bob, outsider):
        hub.add(c)
    assert hub.dispatch(entry(1, "message.created", Audience(channel_id="c1"), text="hi")) == 1
    joined = Audience(channel_id="c1", users=frozenset({"bob"}))
    assert hub.dispatch(entry(2, "channel.member.joined", joined, user_id="bob")) == 2
    assert hub.dispatch(entry(3, "message.created", Audience(channel_id="c1"))) == 2
    left = Audience(channel_id="c1", users=frozenset({"bob"}))
    assert hub.dispatch(entry(4, "channel.member.left", left, user_id="bob")) == 2
    assert hub.dispatch(entry(5, "message.created", Audience(channel_id="c1"))) == 1
    assert not outsider.frames
    ids = []
    for position, message in alice.frames:
        assert message["type"] == "websocket.send" and position is not None
        ids.append(json.loads(message["text"])["id"])
    assert ids == ["1000-1", "1000-2", "1000-3", "1000-4", "1000-5"]
    assert len(bob.frames) == 3  # his join, the message after it, his leave


def test_a_client_that_does_not_read_is_cut_off_not_buffered() -> None:
    hub = Hub()
    slow = client("slow", {"c1"}, limit=3)
    hub.add(slow)
    delivered = [
        hub.dispatch(entry(n, "message.created", Audience(channel_id="c1"))) for n in range(5)
    ]
    assert delivered == [1, 1, 1, 0, 0]
    assert slow.close_code == CLOSE_TOO_SLOW and slow.closed.is_set()
    hub.remove(slow)
    assert len(hub) == 0


async def test_a_waiting_sender_wakes_when_a_frame_is_offered() -> None:
    hub = Hub()
    alice = client("alice", {"c1"})
    hub.add(alice)
    waiting = asyncio.create_task(alice.wait())
    await asyncio.sleep(0)  # one loop turn: the sender is now parked on an empty queue
    assert not waiting.done()
    hub.dispatch(entry(1, "message.created", Audience(channel_id="c1")))
    await asyncio.wait_for(waiting, 5)
    assert len(alice.frames) == 1
