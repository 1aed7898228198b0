"""The reminder service's typed event: its wire data, key and audience. Pure, no servers."""

from __future__ import annotations

from datetime import UTC, datetime

from quckchat.core.events import Audience, Event
from quckchat.realtime import audience as realtime
from quckchat.reminder.events import ReminderFired

DUE = datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def fired(channel_id: str | None) -> ReminderFired:
    return ReminderFired(
        reminder_id="r1",
        user_id="ann",
        workspace_id="w1",
        channel_id=channel_id,
        text="stand-up",
        message_id=None,
        repeat="daily",
        occurrence=2,
        due_at=DUE,
        actor="ann",
    )


def test_a_personal_reminder_is_for_its_author() -> None:
    envelope = Event.of(fired(None), source="reminder", tenant="default")
    assert envelope.key == "r1" and fired(None).event_id == "r1.2"
    assert envelope.data == {
        "reminder_id": "r1",
        "user_id": "ann",
        "workspace_id": "w1",
        "text": "stand-up",
        "message_id": None,
        "repeat": "daily",
        "occurrence": 2,
        "due_at": DUE.isoformat(),
        "actor": "ann",
        "audience": {"users": ["ann"]},
    }
    assert envelope.audience == Audience(users=("ann",))
    assert realtime.audience_of(envelope) == realtime.Audience(users=frozenset({"ann"}))
    assert ReminderFired.of(Event.from_json(envelope.to_json())) == fired(None)


def test_a_channel_reminder_is_for_the_channel() -> None:
    envelope = Event.of(fired("c1"), source="reminder", tenant="default")
    assert envelope.data["channel_id"] == "c1"
    assert envelope.data["audience"] == {"channel_id": "c1"}
    assert envelope.audience == Audience(channel_id="c1")
    assert realtime.audience_of(envelope) == realtime.Audience(channel_id="c1")
    assert ReminderFired.of(Event.from_json(envelope.to_json())) == fired("c1")
