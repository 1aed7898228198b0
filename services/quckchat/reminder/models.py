"""The reminder service's one table: reminders, their series, and who is firing them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from quckchat.core.outbox import outbox_table
from quckchat.core.sql import UTCDateTime, new_id, new_metadata, utcnow

metadata = new_metadata()
outbox = outbox_table(metadata, "reminder")

# Message, channel, workspace and user ids come from other services (64 characters at most).
ID_LENGTH = 64
TEXT_LENGTH = 1000

PENDING, FIRING, FIRED, COMPLETED, CANCELLED = (
    "pending",
    "firing",
    "fired",
    "completed",
    "cancelled",
)
STATUSES = (PENDING, FIRING, FIRED, COMPLETED, CANCELLED)


class Base(DeclarativeBase):
    metadata = metadata


class Reminder(Base):
    """A reminder for its author, or for a channel; once, or repeating in a time zone.

    `status` goes pending -> firing (one replica claimed it) -> fired, or back to pending with
    the next occurrence for a repeating one; completed and cancelled ones never fire again.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_status_due_at", "status", "due_at"),
        Index("ix_reminders_user_id_due_at", "user_id", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    # Set: the channel is reminded (its members), not only the author.
    channel_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    workspace_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    message_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    text: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    repeat: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    # The local clock time every occurrence keeps, whatever the UTC offset of its day.
    wall_time: Mapped[str] = mapped_column(String(15))
    # The series' current occurrence; a snooze moves due_at only.
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    occurrence: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
