"""The events the notification service produces: what the inbox stored and what was read in
it, keyed by the user and seen by that user's own devices (realtime delivers them)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Self

from pydantic import field_serializer

from quckchat.core.events import AboutUser
from quckchat.notification.models import Notice


class NotificationCreated(AboutUser):
    """A new notice in the user's inbox, with their unread count now."""

    type: ClassVar[str] = "notification.created"
    notification_id: str
    reason: str
    title: str
    body: str
    collapse_key: str
    workspace_id: str | None = None
    channel_id: str | None = None
    thread_id: str | None = None
    message_id: str | None = None
    urgent: bool = False
    created_at: datetime
    unread: int

    @field_serializer("created_at")
    def _iso(self, value: datetime) -> str:
        return value.isoformat()

    @classmethod
    def about(cls, notice: Notice, *, user_id: str, unread: int) -> Self:
        return cls(
            user_id=user_id,
            notification_id=notice.id,
            reason=notice.reason,
            title=notice.title,
            body=notice.body,
            collapse_key=notice.collapse_key,
            workspace_id=notice.workspace_id,
            channel_id=notice.channel_id,
            thread_id=notice.thread_id,
            message_id=notice.message_id,
            urgent=notice.urgent,
            created_at=notice.created_at,
            unread=unread,
        )


class NotificationRead(AboutUser):
    """Notices read (named, or all of a collapse key); `unread` is what is left unread."""

    type: ClassVar[str] = "notification.read"
    notification_ids: list[str]
    unread: int
