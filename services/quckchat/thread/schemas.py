"""What the thread API takes and gives."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from quckchat.core.sql import utcnow


class ReadMark(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=0, le=2**62, description="the highest reply seq the user has read")


class MuteUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime | None = Field(
        None, description="when the mute ends (with a time zone offset); absent: until unmuted"
    )

    @field_validator("until")
    @classmethod
    def _future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= utcnow():
            raise ValueError("until is in the past")
        return value


class ThreadPublic(BaseModel):
    """A thread's summary and the caller's standing in it."""

    parent_id: str
    channel_id: str
    workspace_id: str
    reply_count: int
    last_reply_at: datetime | None
    last_reply_id: str | None
    last_seq: int
    following: bool
    last_read_seq: int
    unread: int = Field(description="replies after the caller's last read seq")
    muted: bool = Field(False, description="replies tell the caller nothing while muted")
    muted_until: datetime | None = Field(None, description="when the mute ends; null: no end")
