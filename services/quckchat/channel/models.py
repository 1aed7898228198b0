"""The channel service's tables: channels, their members (with read pointers) and pins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from quckchat.core.events import processed_events_table
from quckchat.core.outbox import outbox_table
from quckchat.core.sql import UTCDateTime, new_id, new_metadata, utcnow

metadata = new_metadata()
outbox = outbox_table(metadata, "channel")
processed_events = processed_events_table(metadata, "channel_processed_events")

ID_LENGTH = 32
# User ids come from tokens and are roles' subjects in the permission service (64 at most).
USER_ID_LENGTH = 64
NAME_LENGTH = 80
TEXT_LENGTH = 250

PUBLIC, PRIVATE, DIRECT, GROUP = "public", "private", "direct", "group"
KINDS = (PUBLIC, PRIVATE, DIRECT, GROUP)
NAMED_KINDS = (PUBLIC, PRIVATE)
CHANNEL_ADMIN, CHANNEL_MEMBER = "channel-admin", "channel-member"


class Base(DeclarativeBase):
    metadata = metadata


class Channel(Base):
    """A conversation in a workspace. Named kinds have a unique name; a direct one a pair key."""

    __tablename__ = "channels"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        UniqueConstraint("workspace_id", "direct_key"),
        Index("ix_channels_workspace_id_kind", "workspace_id", "kind"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    # The installation tenant of the workspace, carried on the channel's events.
    tenant: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    # Direct conversations: the two user ids, sorted, so a pair has one conversation.
    direct_key: Mapped[str | None] = mapped_column(String(2 * USER_ID_LENGTH + 1))
    topic: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    purpose: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    announcement_only: Mapped[bool] = mapped_column(Boolean, default=False)
    disappearing_seconds: Mapped[int | None] = mapped_column(Integer)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    # Changed by one guarded UPDATE each, so a group's size cap holds under concurrent adds.
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ChannelMember(Base):
    """A user in a channel: their role there, read pointer and unread mentions."""

    __tablename__ = "channel_members"
    __table_args__ = (
        Index("ix_channel_members_user_id_workspace_id", "user_id", "workspace_id"),
        Index("ix_channel_members_channel_id_joined_at", "channel_id", "joined_at"),
    )

    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    role: Mapped[str] = mapped_column(String(16), default=CHANNEL_MEMBER)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    mention_count: Mapped[int] = mapped_column(Integer, default=0)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    # A mute's end; None with `muted` is a mute until lifted.
    muted_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notify_level: Mapped[str] = mapped_column(String(16), default="default")
    ignore_channel_mentions: Mapped[bool] = mapped_column(Boolean, default=False)


class Pin(Base):
    """A message pinned to a channel's header."""

    __tablename__ = "pins"
    __table_args__ = (Index("ix_pins_channel_id_pinned_at", "channel_id", "pinned_at"),)

    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pinned_by: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    pinned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
