"""The events the notification orchestrator produces: one decision per recipient and thing to
tell, keyed by the recipient (their notices arrive in order). The notification service carries
them out; nobody's devices see them directly (the inbox announces what it stores)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from quckchat.core.events import DomainEvent
from quckchat.core.values import Id


class Reason(StrEnum):
    """Why the recipient is told: the preference that let it through names the same."""

    MENTION = "mention"  # named, or @channel / @here
    DIRECT = "direct"  # a message in a direct or group conversation
    KEYWORD = "keyword"
    THREAD_REPLY = "thread_reply"  # a reply in a thread they follow
    MESSAGE = "message"  # any message, for a channel set to notify on all
    REACTION = "reaction"
    REMINDER = "reminder"
    CALL = "call"


class Medium(StrEnum):
    IN_APP = "in_app"
    PUSH = "push"
    EMAIL = "email"
    SMS = "sms"


class NoticeDecided(DomainEvent):
    """Tell `user_id` of one thing, on `media`. `notice_id` is the same for every redelivery
    and replica (derived from the source and the recipient): the notification service stores
    and sends each once by it.

    Push waits until `push_after` (held while the user may read it elsewhere) and is dropped if
    by then `channel_id` is read up to `seq`. Email goes out at once, or in the user's digest
    when `digest` is set; a digest holds only what is still unread when it is sent."""

    type: ClassVar[str] = "notice.decided"
    notice_id: Id
    user_id: Id
    tenant: str
    reason: Reason
    media: list[Medium]
    title: str
    body: str
    # Notices with one collapse key replace one another on a device (a channel, or a thread).
    collapse_key: str
    workspace_id: Id | None = None
    channel_id: Id | None = None
    thread_id: Id | None = None
    message_id: Id | None = None
    # The message's place in its channel: read up to here, the notice is stale.
    seq: int | None = None
    actor: Id | None = None
    push_after: datetime | None = None
    digest: bool = False
    # Urgent notices go past quiet hours and do-not-disturb (they were let through for it).
    urgent: bool = False

    @property
    def key(self) -> str:
        return self.user_id


class NoticeWithdrawn(DomainEvent):
    """What `notice_id` told of is gone (the message was deleted, the mention edited away):
    a notice not yet sent is dropped, and one sent is cleared from the user's devices."""

    type: ClassVar[str] = "notice.withdrawn"
    notice_id: Id
    user_id: Id

    @property
    def key(self) -> str:
        return self.user_id
