"""Request and response bodies of the channel service, with the bounds that make bad input a 422."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from quckchat.channel.client import NotifyLevel
from quckchat.core.pagination import PageQuery
from quckchat.core.sql import utcnow
from quckchat.core.values import Patch
from quckchat.permission.client import UserId

Kind = Literal["public", "private", "direct", "group"]
NamedKind = Literal["public", "private"]
ChannelRole = Literal["channel-admin", "channel-member"]

ENTITY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
EntityId = Annotated[str, StringConstraints(pattern=ENTITY_ID_PATTERN)]
MessageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
ChannelName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9_-]{1,80}$"),
    Field(description="lowercase letters, digits, `-` and `_`; unique in the workspace"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=250)]
# Up to a year; a few seconds is allowed so a disappearing message can be seen to go.
Seconds = Annotated[int, Field(ge=1, le=365 * 24 * 3600)]
Seq = Annotated[int, Field(ge=0, le=2**53)]
MAX_CREATE_MEMBERS = 100
GROUP_MIN, GROUP_MAX = 3, 9


class ChannelCreate(BaseModel):
    """A new conversation; the caller is always one of its members."""

    model_config = ConfigDict(extra="forbid")

    workspace_id: EntityId
    kind: Kind = "public"
    name: ChannelName | None = Field(None, description="public and private channels only")
    topic: Text | None = None
    purpose: Text | None = None
    members: list[UserId] = Field(
        default_factory=list,
        max_length=MAX_CREATE_MEMBERS,
        description="others to add; direct: the one other user; group: 2 to 8 others",
    )

    @model_validator(mode="after")
    def _name_fits_kind(self) -> Self:
        named = self.kind in ("public", "private")
        if named and self.name is None:
            raise ValueError("public and private channels need a name")
        if not named and self.name is not None:
            raise ValueError("direct and group conversations have no name")
        return self


class ChannelUpdate(Patch):
    """A partial update: absent fields stay; null clears topic, purpose and the timer."""

    nullable: ClassVar[frozenset[str]] = frozenset({"topic", "purpose", "disappearing_seconds"})

    name: ChannelName | None = None
    topic: Text | None = None
    purpose: Text | None = None
    announcement_only: bool | None = None
    disappearing_seconds: Seconds | None = None


class ChannelPublic(BaseModel):
    """A channel as the caller sees it, with their own standing in it (role None: not in it)."""

    id: str
    workspace_id: str
    kind: Kind
    name: str | None
    topic: str | None
    purpose: str | None
    is_default: bool
    announcement_only: bool
    disappearing_seconds: int | None
    archived_at: datetime | None
    created_by: str
    created_at: datetime
    member_count: int
    last_seq: int
    last_message_at: datetime | None
    role: ChannelRole | None = None
    unread: int = 0
    mentions: int = 0
    muted: bool = False
    muted_until: datetime | None = None
    notify_level: NotifyLevel = "default"
    ignore_channel_mentions: bool = False


class NotifyUpdate(Patch):
    """The caller's notifications from one channel: the level, and whether @channel,
    @everyone and @here count as naming them."""

    level: NotifyLevel | None = None
    ignore_channel_mentions: bool | None = None


class MuteUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: datetime | None = Field(
        None, description="when the mute ends (with a time zone offset); none: until lifted"
    )

    @model_validator(mode="after")
    def _future(self) -> Self:
        if self.until is None:
            return self
        if self.until.tzinfo is None:
            raise ValueError("until needs a time zone offset, e.g. 2026-01-01T09:00:00Z")
        if self.until <= utcnow():
            raise ValueError("until is in the past")
        return self


class MemberPublic(BaseModel):
    user_id: str
    display_name: str | None = None
    role: ChannelRole
    joined_at: datetime


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: ChannelRole


class ReadUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: Seq = Field(description="the highest message seq the caller has read")


class ReadState(BaseModel):
    channel_id: str
    last_read_seq: int
    unread: int
    mentions: int


class PinPublic(BaseModel):
    channel_id: str
    message_id: str
    pinned_by: str
    pinned_at: datetime


class WorkspaceQuery(PageQuery):
    workspace_id: EntityId


# Internal


class InternalChannelCreate(BaseModel):
    """A channel another service opens (the workspace service's defaults); one per name."""

    model_config = ConfigDict(extra="forbid")

    workspace_id: EntityId
    name: ChannelName
    kind: NamedKind = "public"
    created_by: UserId
    default: bool = Field(False, description="everyone who joins the workspace is added")
    tenant: str | None = Field(None, max_length=64, description="the workspace's tenant")


class DefaultMembersRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: UserId


class MembershipInternal(BaseModel):
    """What the message service needs to know to let a member post or read."""

    channel_id: str
    workspace_id: str
    user_id: str
    kind: Kind
    role: ChannelRole
    archived: bool
    announcement_only: bool
    disappearing_seconds: int | None


class NotifyMember(BaseModel):
    user_id: str
    muted: bool
    muted_until: datetime | None
    level: NotifyLevel
    ignore_channel_mentions: bool


class NotifyView(BaseModel):
    """A channel as the notification orchestrator needs it: its kind and each member's mute."""

    channel_id: str
    workspace_id: str
    kind: Kind
    name: str | None
    members: list[NotifyMember]


class ReadableQuery(BaseModel):
    workspace_id: EntityId
