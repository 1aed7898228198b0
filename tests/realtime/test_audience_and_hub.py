"""Who gets an event, and how the hub queues it for local clients. Pure, no servers."""

from __future__ import annotations

import asyncio
import json

from quckchat.core import events
from quckchat.realtime.audience import Audience, audience_of
from quckchat.realtime.hub import CLOSE_TOO_SLOW, Client, Hub
from quckchat.realtime.stream import Entry, payload_of


def event(type_: str, audience: events.Audience | None, /, **data: object) -> events.Event:
    return events.Event(type=type_, source="test", key="k", data=dict(data), audience=audience)


def test_the_audience_is_the_one_the_envelope_declares() -> None:
    channel = event("message.created", events.Audience(channel_id="c1"), channel_id="c1")
    assert audience_of(channel) == Audience(channel_id="c1")
    personal = events.Audience(users=("u1",))
    hidden = event("message.hidden", personal, channel_id="c1", user_id="u1")
    assert audience_of(hidden) == Audience(users=frozenset({"u1"}))
    both = events.Audience(channel_id="c1", users=("u2", "u2"))
    joined = event("channel.member.joined", both, channel_id="c1", user_id="u2")
    assert audience_of(joined) == Audience(channel_id="c1", users=frozenset({"u2"}))
    everyone = events.Audience(workspace_id="w1", users=("a", "b"))
    assert audience_of(event("workspace.updated", everyone, workspace_id="w2")) == Audience(
        workspace_id="w1", users=frozenset({"a", "b"})
    )


def test_an_envelope_without_an_audience_is_for_no_client() -> None:
    # Whatever its type and data say: realtime does not guess from them.
    for type_, data in [
        ("message.created", {"channel_id": "c1"}),
        ("message.hidden", {"channel_id": "c1", "user_id": "u1"}),
        ("workspace.updated", {"workspace_id": "w1"}),
        ("thread.updated", {"followers": ["a"]}),
        ("event-broadcast.notice", {"audience": {"users": ["a", "b"]}}),
    ]:
        assert audience_of(event(type_, None, **data)) == Audience()
        assert audience_of(event(type_, None, **data)).empty


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
    joined = Audience(channel_id="c1", users=frozenset({"bob"}), membership="joined")
    assert hub.dispatch(entry(2, "channel.member.joined", joined, user_id="bob")) == 2
    assert hub.dispatch(entry(3, "message.created", Audience(channel_id="c1"))) == 2
    left = Audience(channel_id="c1", users=frozenset({"bob"}), membership="left")
    assert hub.dispatch(entry(4, "channel.member.left", left, user_id="bob")) == 2
    assert hub.dispatch(entry(5, "message.created", Audience(channel_id="c1"))) == 1
    assert not outsider.frames
    ids = []
    for position, message in alice.frames:
        assert message["type"] == "websocket.send" and position is not None
        ids.append(json.loads(message["text"])["id"])
    assert ids == ["1000-1", "1000-2", "1000-3", "1000-4", "1000-5"]
    assert len(bob.frames) == 3  # his join, the message after it, his leave


def test_membership_follows_the_audience_not_the_event_type() -> None:
    hub = Hub()
    alice, bob = client("alice", {"c1"}), client("bob", {"c1"})
    for c in (alice, bob):
        hub.add(c)
    # A type realtime has never heard of still moves membership: the producer declared it.
    joined = Audience(workspace_id="w2", users=frozenset({"bob"}), membership="joined")
    assert hub.dispatch(entry(1, "elsewhere.invited", joined)) == 1
    assert hub.dispatch(entry(2, "workspace.updated", Audience(workspace_id="w2"))) == 1
    # A deleted channel (left, naming nobody): everyone sees it, and nothing of it after.
    gone = Audience(channel_id="c1", membership="left")
    assert hub.dispatch(entry(3, "channel.deleted", gone)) == 2
    assert hub.dispatch(entry(4, "message.created", Audience(channel_id="c1"))) == 0
    assert "c1" not in alice.channels and "c1" not in bob.channels
    # An audience that merely names users changes nobody's membership.
    named = Audience(channel_id="c3", users=frozenset({"alice"}))
    assert hub.dispatch(entry(5, "channel.read", named)) == 1
    assert hub.dispatch(entry(6, "message.created", Audience(channel_id="c3"))) == 0


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
