"""What the reminder API takes and gives, with the bounds that make bad input a 422."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from quckchat.core.values import ID_PATTERN, TimeZoneName
from quckchat.reminder.models import TEXT_LENGTH

Repeat = Literal["daily", "weekdays", "weekly"]
Status = Literal["pending", "firing", "fired", "completed", "cancelled"]
Id = Annotated[str, Field(pattern=ID_PATTERN)]
# Reminders and snoozes reach at most this far ahead.
HORIZON = timedelta(days=5 * 366)
MAX_SNOOZE = timedelta(days=366)


class ReminderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=TEXT_LENGTH)] = ""
    message_id: Id | None = Field(None, description="remind about this message")
    channel_id: Id | None = Field(None, description="remind the channel (you must be able to post)")
    at: AwareDatetime | None = Field(None, description="when, with a time zone offset")
    after_seconds: int | None = Field(
        None, ge=1, le=int(HORIZON.total_seconds()), description="or in this many seconds"
    )
    repeat: Repeat | None = None
    timezone: TimeZoneName = Field("UTC", description="the IANA zone repeats keep the time in")

    @field_validator("at")
    @classmethod
    def _representable(cls, value: datetime | None) -> datetime | None:
        try:
            return None if value is None else value.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("the time is out of range") from exc

    @model_validator(mode="after")
    def _one_time_and_something_to_say(self) -> Self:
        if (self.at is None) == (self.after_seconds is None):
            raise ValueError("give exactly one of at and after_seconds")
        if not self.text and self.message_id is None:
            raise ValueError("a reminder needs text or a message_id")
        return self


class Snooze(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: int = Field(ge=1, le=int(MAX_SNOOZE.total_seconds()))


class ReminderPublic(BaseModel):
    id: str
    text: str
    message_id: str | None
    channel_id: str | None
    workspace_id: str | None
    due_at: datetime
    repeat: Repeat | None
    timezone: str
    status: Status
    occurrence: int = Field(description="how many times it has fired")
    fired_at: datetime | None
    created_at: datetime
