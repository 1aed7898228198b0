"""The events the channel service produces: keyed by channel id, each naming its workspace, its
kind and who acted. Members of the channel see them; a member change is seen by that member
too (who may have just left), and a read mark only by its reader's other devices."""

from __future__ import annotations

from typing import ClassVar, Self

from quckchat.channel.models import Channel
from quckchat.core.events import Audience, InChannel, Membership
from quckchat.core.values import Id


class ChannelEvent(InChannel):
    kind: str
    actor: Id | None = None

    @classmethod
    def about(cls, channel: Channel, /, *, actor: str | None, **fields: object) -> Self:
        return cls.model_validate(
            {
                "workspace_id": channel.workspace_id,
                "channel_id": channel.id,
                "kind": channel.kind,
                "actor": actor,
                **fields,
            }
        )


class ChannelCreated(ChannelEvent):
    type: ClassVar[str] = "channel.created"
    name: str | None = None


class ChannelUpdated(ChannelEvent):
    """The fields named in `changed` hold their new values; the others are null."""

    type: ClassVar[str] = "channel.updated"
    changed: list[str]
    name: str | None = None
    topic: str | None = None
    purpose: str | None = None
    announcement_only: bool | None = None
    disappearing_seconds: int | None = None


class ChannelArchived(ChannelEvent):
    type: ClassVar[str] = "channel.archived"


class ChannelUnarchived(ChannelEvent):
    type: ClassVar[str] = "channel.unarchived"


class ChannelDeleted(ChannelEvent):
    type: ClassVar[str] = "channel.deleted"

    def audience(self) -> Audience | None:
        return Audience(channel_id=self.channel_id, membership="left")


class MemberEvent(ChannelEvent):
    user_id: Id
    # Whether the member joins or leaves the channel with this event.
    membership: ClassVar[Membership | None] = None

    def audience(self) -> Audience | None:
        return Audience(
            channel_id=self.channel_id, users=(self.user_id,), membership=self.membership
        )


class MemberJoined(MemberEvent):
    type: ClassVar[str] = "channel.member.joined"
    membership: ClassVar[Membership | None] = "joined"
    role: str


class MemberLeft(MemberEvent):
    type: ClassVar[str] = "channel.member.left"
    membership: ClassVar[Membership | None] = "left"


class MemberRemoved(MemberEvent):
    type: ClassVar[str] = "channel.member.removed"
    membership: ClassVar[Membership | None] = "left"


class MemberRoleChanged(MemberEvent):
    type: ClassVar[str] = "channel.member.role_changed"
    role: str
    previous_role: str


class ChannelRead(ChannelEvent):
    """The reader's other devices clear their unread marks; nobody else sees it."""

    type: ClassVar[str] = "channel.read"
    user_id: str
    seq: int

    def audience(self) -> Audience | None:
        return Audience(users=(self.user_id,))


class MessagePinned(ChannelEvent):
    type: ClassVar[str] = "channel.pinned"
    message_id: str


class MessageUnpinned(ChannelEvent):
    type: ClassVar[str] = "channel.unpinned"
    message_id: str


# A member's departure, however it happened: consumers that follow membership take both.
DEPARTURES: tuple[type[MemberEvent], ...] = (MemberLeft, MemberRemoved)
