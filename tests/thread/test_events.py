"""The thread service's typed events: their wire data, key and audience. Pure, no servers."""

from __future__ import annotations

from datetime import UTC, datetime

from quckchat.core.events import Audience, Event
from quckchat.realtime import audience as realtime
from quckchat.thread.events import ThreadRead, ThreadUpdated

AT = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def updated(followers: list[str], last_reply_at: datetime | None = AT) -> ThreadUpdated:
    return ThreadUpdated(
        workspace_id="w1",
        channel_id="c1",
        parent_id="p1",
        reply_count=1 if last_reply_at else 0,
        last_reply_at=last_reply_at,
        last_reply_id="m2" if last_reply_at else None,
        last_seq=7,
        followers=followers,
        actor="bob",
    )


def test_an_updated_thread_carries_its_muted_followers_with_each_mutes_end() -> None:
    muted = updated(["ann", "bob"]).model_copy(update={"muted": {"ann": AT, "bob": None}})
    envelope = Event.of(muted, source="thread", tenant="default")
    assert envelope.data["muted"] == {"ann": AT.isoformat(), "bob": None}
    parsed = ThreadUpdated.parse(envelope)
    assert parsed is not None and parsed.muted == {"ann": AT, "bob": None}


def test_an_updated_thread_is_for_its_followers_only() -> None:
    envelope = Event.of(updated(["ann", "bob"]), source="thread", tenant="default")
    assert envelope.key == "p1"
    assert envelope.data == {
        "workspace_id": "w1",
        "channel_id": "c1",
        "parent_id": "p1",
        "actor": "bob",
        "reply_count": 1,
        "last_reply_at": AT.isoformat(),
        "last_reply_id": "m2",
        "last_seq": 7,
        "followers": ["ann", "bob"],
        "muted": {},
    }
    assert envelope.audience == Audience(users=("ann", "bob"))
    assert realtime.audience_of(envelope) == realtime.Audience(users=frozenset({"ann", "bob"}))
    assert ThreadUpdated.of(Event.from_json(envelope.to_json())) == updated(["ann", "bob"])


def test_a_thread_nobody_follows_is_for_no_client() -> None:
    envelope = Event.of(updated([], last_reply_at=None), source="thread", tenant=None)
    assert envelope.audience is None
    assert envelope.data["last_reply_at"] is None
    assert realtime.audience_of(envelope).empty


def test_a_read_mark_is_for_the_reader_only() -> None:
    read = ThreadRead(
        workspace_id="w1", channel_id="c1", parent_id="p1", user_id="ann", seq=9, actor="ann"
    )
    envelope = Event.of(read, source="thread", tenant=None)
    assert envelope.key == "p1"
    assert set(envelope.data) == {
        "workspace_id",
        "channel_id",
        "parent_id",
        "user_id",
        "seq",
        "actor",
    }
    assert envelope.audience == Audience(users=("ann",))
    assert realtime.audience_of(envelope) == realtime.Audience(users=frozenset({"ann"}))
