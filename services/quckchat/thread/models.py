"""The thread service's tables: threads, the replies they count, and who follows them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from quckchat.core.events import processed_events_table
from quckchat.core.outbox import outbox_table
from quckchat.core.sql import UTCDateTime, new_metadata, utcnow

metadata = new_metadata()
outbox = outbox_table(metadata, "thread")
processed_events = processed_events_table(metadata, "thread_processed_events")

# Message, channel, workspace and user ids come from other services (64 characters at most).
ID_LENGTH = 64


class Base(DeclarativeBase):
    metadata = metadata


class Thread(Base):
    """A top-level message with replies, or one someone follows before its first reply."""

    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_channel_id", "channel_id"),)

    parent_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    workspace_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    tenant: Mapped[str | None] = mapped_column(String(64))
    # Who wrote the parent: they follow from the first reply (None when it was gone).
    parent_sender_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    parent_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    last_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_reply_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    # The highest reply seq (the parent's own seq while there is none).
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The newest activity: what "threads I follow" sorts by, never null (unlike last_reply_at).
    activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reply(Base):
    """One live reply; counts are recomputed from these, so a redelivery cannot skew them."""

    __tablename__ = "thread_replies"
    __table_args__ = (Index("ix_thread_replies_parent_id_seq", "parent_id", "seq"),)

    message_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    parent_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    seq: Mapped[int] = mapped_column(BigInteger)
    sender_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Follower(Base):
    """A user's standing in a thread: following or not, and how far they have read."""

    __tablename__ = "thread_followers"
    __table_args__ = (
        Index("ix_thread_followers_user_id_workspace_id", "user_id", "workspace_id"),
        Index("ix_thread_followers_channel_id_user_id", "channel_id", "user_id"),
    )

    parent_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    last_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Replies tell a muted follower nothing until `muted_until` (None: until unmuted).
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    muted_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def muted_at(self, now: datetime) -> bool:
        return self.muted and (self.muted_until is None or self.muted_until > now)
