"""What the attachment service takes and answers: a message's files checked before it is
stored, a channel's files, whether a user may see a file."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from quckchat.core.values import Id

MAX_ATTACHMENTS = 10  # files on one message


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Resolve(Strict):
    """The files a sender attaches to a message in a channel of `workspace_id`; with
    `forwarded_from`, files already attached to that message may be someone else's."""

    workspace_id: Id
    sender_id: Id
    file_ids: list[Id] = Field(min_length=1, max_length=MAX_ATTACHMENTS)
    forwarded_from: Id | None = None


class Resolved(BaseModel):
    """A file as a message carries it: the file service's name, size and sniffed type."""

    id: str
    name: str
    size: int
    content_type: str


class MaySee(Strict):
    file_id: Id
    user_id: Id


class Allowed(BaseModel):
    allowed: bool


class ChannelFile(BaseModel):
    """A file attached to a message of the channel (listed once per message it is on)."""

    file_id: str
    message_id: str
    channel_id: str
    sender_id: str
    name: str
    size: int
    content_type: str
    created_at: datetime = Field(description="when its message was sent")
