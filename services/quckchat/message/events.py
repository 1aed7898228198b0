"""The events the message service produces: keyed by channel id (a channel's events, its seqs
among them, arrive in order), each naming its workspace, channel and who acted.

The channel's members see them, but for a message hidden for one person, which only that
person's other devices see. A change to a message carries the message as every member sees it
(`MessageBody`, `MessagePublic`'s fields); times are ISO 8601 with their offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, PlainSerializer

from quckchat.core.events import Audience, InChannel
from quckchat.core.values import Id
from quckchat.message import store
from quckchat.message.schemas import Attachment, Forwarded, Priority, Quote


def _iso(moment: datetime) -> str:
    return moment.isoformat()


# A time as the events have always written it (`+00:00`, not pydantic's `Z`).
Moment = Annotated[datetime, PlainSerializer(_iso, return_type=str, when_used="json")]


class MessageBody(BaseModel):
    """A message as every member of its channel sees it (a deleted one is emptied)."""

    model_config = ConfigDict(frozen=True)

    id: Id
    channel_id: Id
    workspace_id: Id
    seq: int
    sender_id: Id
    sender_name: str | None = None
    text: str
    mentions: list[str]
    mention_channel: bool
    parent_id: Id | None
    reply_count: int
    last_reply_at: Moment | None
    quote: Quote | None
    forwarded: Forwarded | None
    attachments: list[Attachment]
    reactions: dict[str, list[str]]
    edited_at: Moment | None
    deleted: bool
    created_at: Moment
    expires_at: Moment | None
    priority: Priority = "standard"


class MessageEvent(InChannel):
    actor: Id


class MessageChange(MessageEvent):
    """A change to one message, carrying the message as it now is."""

    message_id: Id
    seq: int
    message: MessageBody

    @classmethod
    def about(
        cls,
        doc: dict[str, Any],
        *,
        actor: str,
        reactions: dict[str, list[str]] | None = None,
        **fields: object,
    ) -> Self:
        """The event about a stored message, with its reactions (none when not given)."""
        return cls.model_validate(
            {
                "workspace_id": doc["workspace_id"],
                "channel_id": doc["channel_id"],
                "message_id": doc["_id"],
                "seq": doc["seq"],
                "actor": actor,
                "message": store.public(doc, reactions or {}),
                **fields,
            }
        )


class MessageCreated(MessageChange):
    type: ClassVar[str] = "message.created"


class MessageEdited(MessageChange):
    type: ClassVar[str] = "message.edited"


class MessageDeleted(MessageChange):
    """Deleted for everyone: the message is emptied, and its reactions are gone."""

    type: ClassVar[str] = "message.deleted"


class ReactionChange(MessageChange):
    """`actor` added or removed their `emoji`; `message.reactions` as they now stand."""

    emoji: str


class ReactionAdded(ReactionChange):
    type: ClassVar[str] = "message.reaction.added"


class ReactionRemoved(ReactionChange):
    type: ClassVar[str] = "message.reaction.removed"


class MessageHidden(MessageEvent):
    """Deleted for one member only: their other devices drop it; nobody else sees this."""

    type: ClassVar[str] = "message.hidden"
    message_id: Id
    user_id: Id

    def audience(self) -> Audience | None:
        return Audience(users=(self.user_id,))


class MessageExpired(MessageEvent):
    """A disappearing message's time ran out; `actor` is its sender."""

    type: ClassVar[str] = "message.expired"
    message_id: Id
    seq: int


# The events after which a message is gone for everyone, by type (consumers drop what they keep).
GONE: dict[str, type[MessageDeleted] | type[MessageExpired]] = {
    kind.type: kind for kind in (MessageDeleted, MessageExpired)
}


class Receipt(MessageEvent):
    """The member's pointer in the channel moved forward to `seq`."""

    user_id: Id
    seq: int


class MessagesRead(Receipt):
    type: ClassVar[str] = "message.read"


class MessagesDelivered(Receipt):
    type: ClassVar[str] = "message.delivered"


# The receipt event of each kind of mark (`receipts.KINDS`).
RECEIPTS: dict[str, type[Receipt]] = {"read": MessagesRead, "delivered": MessagesDelivered}
