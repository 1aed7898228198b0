"""The bookmark service's typed events: their wire data, key and audience. Pure, no servers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quckchat.bookmark import events
from quckchat.bookmark.consumers import effect_of
from quckchat.bookmark.schemas import ChannelBookmarkPublic
from quckchat.channel.events import ChannelDeleted
from quckchat.core.events import Audience, DomainEvent, Event

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LINK = ChannelBookmarkPublic(
    id="b1",
    channel_id="c1",
    workspace_id="w1",
    title="Runbook",
    url="https://example.com/runbook",
    emoji=None,
    created_by="u1",
    created_at=NOW,
    updated_at=NOW,
)


def saved(kind: type[events.SavedEvent]) -> events.SavedEvent:
    return kind(workspace_id="w1", channel_id="c1", message_id="m1", user_id="u1", actor="u1")


def link(kind: type[events.ChannelBookmarkEvent]) -> events.ChannelBookmarkEvent:
    return kind(workspace_id="w1", channel_id="c1", bookmark_id="b1", bookmark=LINK, actor="u1")


SAVER = Audience(users=("u1",))
CHANNEL = Audience(channel_id="c1")

# Each event and the clients it is for: a save its saver's, a link its channel's.
SAMPLES: list[tuple[DomainEvent, Audience]] = [
    (saved(events.MessageSaved), SAVER),
    (saved(events.MessageUnsaved), SAVER),
    (link(events.BookmarkAdded), CHANNEL),
    (link(events.BookmarkUpdated), CHANNEL),
    (link(events.BookmarkRemoved), CHANNEL),
]


@pytest.mark.parametrize(("event", "audience"), SAMPLES, ids=lambda v: getattr(v, "type", ""))
def test_the_audience_is_the_declared_one(event: DomainEvent, audience: Audience) -> None:
    envelope = Event.of(event, source="bookmark", tenant="default")
    assert type(event).of(Event.from_json(envelope.to_json())) == event
    assert envelope.audience == audience
    assert Event.from_json(envelope.to_json()).audience == audience


def test_a_save_is_for_the_saver_only_and_keyed_by_them() -> None:
    envelope = Event.of(saved(events.MessageSaved), source="bookmark", tenant=None)
    assert envelope.key == "u1"
    assert envelope.audience == Audience(users=("u1",))
    assert envelope.data == {
        "workspace_id": "w1",
        "channel_id": "c1",
        "message_id": "m1",
        "user_id": "u1",
        "actor": "u1",
        "audience": {"users": ["u1"]},
    }


def test_a_link_is_for_the_channel_and_keyed_by_it() -> None:
    envelope = Event.of(link(events.BookmarkAdded), source="bookmark", tenant=None)
    assert envelope.key == "c1"
    assert envelope.audience == Audience(channel_id="c1")
    assert envelope.data == {
        "workspace_id": "w1",
        "channel_id": "c1",
        "bookmark_id": "b1",
        "bookmark": LINK.model_dump(mode="json"),
        "actor": "u1",
    }


def test_a_deleted_channel_takes_its_links_and_a_malformed_one_nothing() -> None:
    deleted = ChannelDeleted(workspace_id="w1", channel_id="c1", kind="public", actor="u1")
    assert effect_of(Event.of(deleted, source="channel", tenant=None)) is not None
    for data in ({"channel_id": "c1"}, {**deleted.model_dump(), "channel_id": "../c1"}):
        malformed = Event(type=ChannelDeleted.type, source="channel", key="c1", data=data)
        assert effect_of(malformed) is None
