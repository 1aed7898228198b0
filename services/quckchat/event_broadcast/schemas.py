"""What the broadcast API takes and gives."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MAX_TEXT = 4000

Id = Annotated[str, Field(pattern=ID_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT, pattern=r"\S")]


class Kind(StrEnum):
    ANNOUNCEMENT = "announcement"  # from a workspace's admins to its members
    NOTICE = "notice"  # a change the workspace or a channel should know, or the platform's word
    MEMBERSHIP = "membership"  # someone joined, left, or has a new role


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnnouncementCreate(Strict):
    workspace_id: Id
    text: Text


class NoticeCreate(Strict):
    text: Text


class BroadcastPublic(BaseModel):
    id: str
    kind: Kind
    type: str = Field(description="what happened: `announcement`, or the event it came from")
    workspace_id: str | None
    channel_id: str | None
    user_id: str | None = Field(description="whom a membership broadcast is about")
    role: str | None
    text: str | None
    details: dict[str, Any]
    actor: str | None
    created_at: datetime
