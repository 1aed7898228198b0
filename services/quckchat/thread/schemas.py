"""What the thread API takes and gives."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ReadMark(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=0, le=2**62, description="the highest reply seq the user has read")


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
