"""What the notification API takes and gives, with the bounds that make bad input a 422."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from quckchat.core.values import ID_PATTERN
from quckchat.notification.models import BODY_LENGTH, TITLE_LENGTH
from quckchat.notification_orchestrator.events import Medium

Id = Annotated[str, Field(pattern=ID_PATTERN)]
CollapseKey = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{7,14}$")]
MAX_BATCH = 100


class NotificationPublic(BaseModel):
    id: str
    reason: str
    title: str
    body: str
    collapse_key: str
    workspace_id: str | None
    channel_id: str | None
    thread_id: str | None
    message_id: str | None
    seq: int | None
    actor: str | None
    urgent: bool
    created_at: datetime
    read_at: datetime | None


class UnreadCounts(BaseModel):
    total: int
    by_collapse_key: dict[str, int] = Field(description="unread notices per collapse key")


class ReadAll(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collapse_key: CollapseKey | None = Field(None, description="only these; default: all")


class ReadResult(BaseModel):
    read: int = Field(description="how many notices this marked read")
    unread: int = Field(description="how many are left unread")


class AttemptPublic(BaseModel):
    """One try at delivering one of your notices, and what the provider answered."""

    id: str
    delivery_id: str
    notification_id: str
    medium: str
    device_id: str | None
    clear: bool
    at: datetime
    outcome: str
    provider_status: int | None
    detail: str
    retry_after: float | None


class SendRequest(BaseModel):
    """Tell a user (inbox and the media named), or a bare email address or phone (an invite)."""

    model_config = ConfigDict(extra="forbid")

    notice_id: Id | None = Field(None, description="the same id again sends nothing again")
    user_id: Id | None = None
    email: EmailStr | None = None
    phone: Phone | None = None
    tenant: Annotated[str, StringConstraints(max_length=64)] | None = None
    reason: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")] = "message"
    title: Annotated[str, StringConstraints(min_length=1, max_length=TITLE_LENGTH)]
    body: Annotated[str, StringConstraints(max_length=BODY_LENGTH)] = ""
    collapse_key: CollapseKey | None = None
    media: list[Medium] = Field(
        default_factory=lambda: [Medium.IN_APP, Medium.PUSH],
        max_length=4,
        description="for a user; an address gets its one medium",
    )
    workspace_id: Id | None = None
    channel_id: Id | None = None
    urgent: bool = False

    @model_validator(mode="after")
    def _one_recipient(self) -> Self:
        if sum(x is not None for x in (self.user_id, self.email, self.phone)) != 1:
            raise ValueError("give exactly one of user_id, email and phone")
        return self


class SendBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[SendRequest] = Field(min_length=1, max_length=MAX_BATCH)


class Sent(BaseModel):
    notification_id: str
    stored: bool = Field(description="false when that notice id was sent before")


class SentBatch(BaseModel):
    items: list[Sent]
