"""The events the thread service produces: keyed by the thread's parent message, each naming its
workspace and channel. Only the thread's followers see a thread change (not the whole channel),
and a read mark only its reader's other devices."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Self

from pydantic import Field, field_serializer

from quckchat.core.events import Audience, DomainEvent
from quckchat.thread.models import Thread


class ThreadEvent(DomainEvent):
    workspace_id: str
    channel_id: str
    parent_id: str
    actor: str | None = None

    @property
    def key(self) -> str:
        return self.parent_id


class ThreadUpdated(ThreadEvent):
    """The thread's state now, and who follows it (who hears of it)."""

    type: ClassVar[str] = "thread.updated"
    reply_count: int
    last_reply_at: datetime | None = None
    last_reply_id: str | None = None
    last_seq: int
    followers: list[str]
    # The followers muted now, with when each mute ends (None: until unmuted): the thread
    # service owns the mutes, and a reply is decided on them as they were when it came.
    muted: dict[str, datetime | None] = Field(default_factory=dict)

    def audience(self) -> Audience | None:
        return Audience(users=tuple(dict.fromkeys(self.followers))) if self.followers else None

    @field_serializer("last_reply_at")
    def _iso(self, value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    @field_serializer("muted")
    def _iso_ends(self, value: dict[str, datetime | None]) -> dict[str, str | None]:
        return {user: end.isoformat() if end else None for user, end in value.items()}

    @classmethod
    def about(
        cls,
        thread: Thread,
        followers: list[str],
        *,
        actor: str | None,
        muted: dict[str, datetime | None] | None = None,
    ) -> Self:
        return cls(
            workspace_id=thread.workspace_id,
            channel_id=thread.channel_id,
            parent_id=thread.parent_id,
            reply_count=thread.reply_count,
            last_reply_at=thread.last_reply_at,
            last_reply_id=thread.last_reply_id,
            last_seq=thread.last_seq,
            followers=followers,
            muted=muted or {},
            actor=actor,
        )


class ThreadRead(ThreadEvent):
    """The reader's other devices clear the thread's unread marks; nobody else sees it."""

    type: ClassVar[str] = "thread.read"
    user_id: str
    seq: int

    def audience(self) -> Audience | None:
        return Audience(users=(self.user_id,))
