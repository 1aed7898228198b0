"""What the message API takes and gives."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from quckchat.attachment.client import MAX_ATTACHMENTS
from quckchat.core.pagination import MAX_LIMIT
from quckchat.core.values import Id

MAX_TEXT = 40_000
# How much a message asks of those it names: urgent notifies through quiet hours and
# do-not-disturb, and again until read.
Priority = Literal["standard", "important", "urgent"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttachmentRef(Strict):
    """A file to attach: one the sender uploaded (and the file service found clean), of the
    channel's workspace. Only its id is sent; name, size and type come from the file."""

    id: Id


class Attachment(Strict):
    """A file a message carries, as the attachment service vouched for it when it was sent."""

    id: Id
    name: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0, le=10 * 1024**3)
    content_type: str = Field(min_length=1, max_length=127)


class MessageCreate(Strict):
    channel_id: Id
    text: str = Field("", max_length=MAX_TEXT)
    client_id: Id | None = Field(
        None, description="your id for this send: a retry with the same one returns the first"
    )
    parent_id: Id | None = Field(None, description="reply in the thread of this message")
    quote_id: Id | None = Field(None, description="quote this message of the same channel")
    priority: Priority = Field(
        "standard",
        description="urgent: those it names are notified through quiet hours and "
        "do-not-disturb, and again until they read it",
    )
    attachments: list[AttachmentRef] = Field(
        default_factory=list,
        max_length=MAX_ATTACHMENTS,
        description='files to attach, by id: `[{"id": "<file id>"}]`',
    )


class ScheduledCreate(MessageCreate):
    scheduled_at: datetime = Field(description="when to post it, with a time zone offset")

    @field_validator("scheduled_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("scheduled_at needs a time zone offset, e.g. 2026-01-01T09:00:00Z")
        return value


class MessageUpdate(Strict):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class Forward(Strict):
    channel_id: Id
    text: str = Field("", max_length=MAX_TEXT, description="a comment sent with it")


class ReadMark(Strict):
    channel_id: Id
    seq: int = Field(ge=0, description="the highest message seq the user has read/received")


class DeleteScope(StrEnum):
    EVERYONE = "everyone"
    ME = "me"


class Quote(BaseModel):
    id: str
    sender_id: str
    text: str


class Forwarded(BaseModel):
    message_id: str
    channel_id: str
    sender_id: str


class MessagePublic(BaseModel):
    id: str
    channel_id: str
    workspace_id: str
    seq: int
    sender_id: str
    sender_name: str | None = Field(description="the sender's display name when it was sent")
    text: str
    mentions: list[str]
    mention_channel: bool
    parent_id: str | None
    reply_count: int
    last_reply_at: datetime | None
    quote: Quote | None
    forwarded: Forwarded | None
    attachments: list[Attachment]
    reactions: dict[str, list[str]]
    edited_at: datetime | None
    deleted: bool
    created_at: datetime
    expires_at: datetime | None
    priority: Priority = "standard"


class ScheduledPublic(BaseModel):
    id: str
    channel_id: str
    text: str
    scheduled_at: datetime
    status: str
    message_id: str | None


class Receipt(BaseModel):
    user_id: str
    seq: int
    at: datetime


class MessagePage(BaseModel):
    items: list[MessagePublic]
    has_more_before: bool
    has_more_after: bool


Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
