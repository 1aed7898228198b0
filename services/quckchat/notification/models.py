"""The notification service's tables: the inbox's notices, their deliveries to devices and
addresses, every attempt at one, and a derived copy of each user's read pointers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from quckchat.core.events import processed_events_table
from quckchat.core.outbox import outbox_table
from quckchat.core.sql import UTCDateTime, new_id, new_metadata, utcnow

metadata = new_metadata()
outbox = outbox_table(metadata, "notification")
processed_events = processed_events_table(metadata, "notification_processed_events")

# Ids come from other services (64 characters at most).
ID_LENGTH = 64
TITLE_LENGTH = 200
BODY_LENGTH = 2000
ADDRESS_LENGTH = 320

PUSH, EMAIL, SMS = "push", "email", "sms"
PENDING, SENDING, DELIVERED, GONE, FAILED, DROPPED = (
    "pending",
    "sending",
    "delivered",
    "gone",
    "failed",
    "dropped",
)
# Deliveries in these states are settled: nothing more is sent for them.
SETTLED = (DELIVERED, GONE, FAILED, DROPPED)


class Base(DeclarativeBase):
    metadata = metadata


class Notice(Base):
    """One thing a user (or a bare address, for invites) is told; the inbox shows a user's."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_user_id_created_at", "user_id", "created_at"),
        Index("ix_notices_user_id_channel_id_seq", "user_id", "channel_id", "seq"),
    )

    # The orchestrator's notice id, so a redelivered decision finds its notice.
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    tenant: Mapped[str | None] = mapped_column(String(64))
    # None for a notice to a bare address (an invite): no inbox shows it.
    user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    reason: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    body: Mapped[str] = mapped_column(String(BODY_LENGTH))
    collapse_key: Mapped[str] = mapped_column(String(200))
    workspace_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    channel_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    thread_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    message_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    actor: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)


class Delivery(Base):
    """One notice to one device or address. Its id derives from (notice, medium, target,
    clear), so a redelivered decision or a second replica finds the same row."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_status_due_at", "status", "due_at"),
        Index("ix_deliveries_notice_id", "notice_id"),
        Index("ix_deliveries_user_id_digest_status", "user_id", "digest", "status"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    notice_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    medium: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(128))
    platform: Mapped[str | None] = mapped_column(String(16))
    token: Mapped[str | None] = mapped_column(String(4096))
    # The email address or phone number (email and SMS).
    address: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH))
    # A push that removes what the notice showed (read or withdrawn elsewhere).
    clear: Mapped[bool] = mapped_column(Boolean, default=False)
    # An email that waits for the user's digest.
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # How often an urgent notice was pushed again because it was still unread.
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attempt(Base):
    """One try at a delivery and what the provider answered; its user may read it."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_user_id_at", "user_id", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))
    provider_status: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(String(500), default="")
    retry_after: Mapped[float | None] = mapped_column(Float)


class ReadPointer(Base):
    """Derived copy of how far a user has read a channel (`scope` = its id) or a thread
    (`thread:<parent id>`), fed by the message, channel and thread services' read events."""

    __tablename__ = "read_pointers"

    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class DigestState(Base):
    """When a user's last digest went out, and which replica is sending the next one."""

    __tablename__ = "digest_states"

    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
