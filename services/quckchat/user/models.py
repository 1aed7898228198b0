"""The user service's tables: profiles (with their settings), contacts, blocks and devices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from quckchat.core.events import processed_events_table
from quckchat.core.outbox import outbox_table
from quckchat.core.sql import UTCDateTime, new_metadata, utcnow

metadata = new_metadata()
outbox = outbox_table(metadata, "user")
processed_events = processed_events_table(metadata)


def now() -> datetime:
    """Whole seconds: MySQL's DATETIME keeps no fraction, so every backend answers the same."""
    return utcnow().replace(microsecond=0)


# User ids come from the auth service's tokens; 64 leaves room beyond its 32-character ids.
USER_ID_LENGTH = 64


class Base(DeclarativeBase):
    metadata = metadata


class Profile(Base):
    """One row per user. Settings live here too: they are always read with the profile."""

    __tablename__ = "profiles"
    __table_args__ = (Index("ix_profiles_tenant_phone_hash", "tenant", "phone_hash"),)

    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    # "active" or "suspended", as the auth service last said.
    status: Mapped[str] = mapped_column(String(16), default="active")
    display_name: Mapped[str | None] = mapped_column(String(80))
    status_text: Mapped[str | None] = mapped_column(String(140))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(35))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    last_seen_visibility: Mapped[str] = mapped_column(String(16), default="everyone")
    photo_visibility: Mapped[str] = mapped_column(String(16), default="everyone")
    read_receipts: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_messages: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_mentions: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_calls: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_reactions: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_sound: Mapped[bool] = mapped_column(Boolean, default=True)
    email_digest: Mapped[str] = mapped_column(String(16), default="off")
    # Words that notify like a mention (a bounded list, see schemas.MAX_KEYWORDS).
    notify_keywords: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    # How long a push waits while the user is active on a desktop (they may read it there).
    push_delay_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # Which notices reach the phone: all, mentions (and direct messages) or none.
    notify_push: Mapped[str] = mapped_column(String(16), default="all")
    notify_email: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_hours_start: Mapped[str | None] = mapped_column(String(5))
    quiet_hours_end: Mapped[str | None] = mapped_column(String(5))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)


class Contact(Base):
    """`owner_id` keeps `contact_id` in their address book."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_owner_id_created_at", "owner_id", "created_at"),
        Index("ix_contacts_contact_id", "contact_id"),
    )

    owner_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), primary_key=True)
    nickname: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class Block(Base):
    """`blocker_id` blocked `blocked_id`: the blocked user no longer sees the blocker."""

    __tablename__ = "blocks"
    __table_args__ = (
        Index("ix_blocks_blocker_id_created_at", "blocker_id", "created_at"),
        Index("ix_blocks_blocked_id", "blocked_id"),
    )

    blocker_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), primary_key=True)
    blocked_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class Device(Base):
    """A device of a user that receives push notifications."""

    __tablename__ = "devices"

    user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    push_token: Mapped[str] = mapped_column(String(4096))
    # SHA-256 of push_token: the token itself is too long for an index on MySQL.
    push_token_hash: Mapped[str] = mapped_column(String(64), index=True)
    app_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)
