"""The event the reminder service produces: a reminder fired, keyed by the reminder.

A personal reminder is seen by its author's devices; a channel's, by the channel's members.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Self

from pydantic import SerializerFunctionWrapHandler, field_serializer, model_serializer

from quckchat.core.events import Audience, DomainEvent
from quckchat.reminder.models import Reminder


class ReminderFired(DomainEvent):
    """One occurrence of a reminder (the event's id is `<reminder_id>.<occurrence>`)."""

    type: ClassVar[str] = "reminder.fired"
    reminder_id: str
    user_id: str
    workspace_id: str | None = None
    # Set for a channel's reminder only (absent from the data of a personal one).
    channel_id: str | None = None
    text: str
    message_id: str | None = None
    repeat: str | None = None
    occurrence: int
    due_at: datetime
    actor: str | None = None

    @property
    def key(self) -> str:
        return self.reminder_id

    def audience(self) -> Audience | None:
        if self.channel_id:
            return Audience(channel_id=self.channel_id)
        return Audience(users=(self.user_id,))

    @field_serializer("due_at")
    def _iso(self, value: datetime) -> str:
        return value.isoformat()

    @model_serializer(mode="wrap")
    def _as_before(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Its data has always named its audience, and only a channel's names a channel.
        data: dict[str, Any] = handler(self)
        if self.channel_id:
            data["audience"] = {"channel_id": self.channel_id}
        else:
            data.pop("channel_id", None)
            data["audience"] = {"users": [self.user_id]}
        return data

    @classmethod
    def about(cls, row: Reminder, *, occurrence: int) -> Self:
        return cls(
            reminder_id=row.id,
            user_id=row.user_id,
            workspace_id=row.workspace_id,
            channel_id=row.channel_id,
            text=row.text,
            message_id=row.message_id,
            repeat=row.repeat,
            occurrence=occurrence,
            due_at=row.due_at,
            actor=row.user_id,
        )

    @property
    def event_id(self) -> str:
        """The same occurrence fired again (by a replica taking over) is the same event."""
        return f"{self.reminder_id}.{self.occurrence}"
