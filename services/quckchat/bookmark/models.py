"""The bookmark service's tables: messages people saved, and links in channel headers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from quckchat.core.outbox import outbox_table
from quckchat.core.sql import UTCDateTime, new_id, new_metadata, utcnow

metadata = new_metadata()
outbox = outbox_table(metadata, "bookmark")

# Message, channel, workspace and user ids come from other services (64 characters at most).
ID_LENGTH = 64
NOTE_LENGTH = 1000
TITLE_LENGTH = 200
URL_LENGTH = 2048
EMOJI_LENGTH = 64


class Base(DeclarativeBase):
    metadata = metadata


class SavedMessage(Base):
    """A message a user saved for later, with their own note."""

    __tablename__ = "saved_messages"
    __table_args__ = (
        Index("ix_saved_messages_user_id_created_at", "user_id", "created_at"),
        Index("ix_saved_messages_message_id", "message_id"),
    )

    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    note: Mapped[str | None] = mapped_column(String(NOTE_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ChannelBookmark(Base):
    """A link pinned to a channel's header, in the order they were added."""

    __tablename__ = "channel_bookmarks"
    __table_args__ = (
        Index("ix_channel_bookmarks_channel_id_created_at", "channel_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    workspace_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    tenant: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    url: Mapped[str] = mapped_column(String(URL_LENGTH))
    emoji: Mapped[str | None] = mapped_column(String(EMOJI_LENGTH))
    created_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
