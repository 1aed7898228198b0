"""The gateway's one table: responses kept per Idempotency-Key, so a retried POST is not redone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from quckchat.core.sql import IdColumn, UTCDateTime, new_id, new_metadata, utcnow

metadata = new_metadata()


class Base(DeclarativeBase):
    metadata = metadata


class IdempotentRequest(Base):
    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("owner", "key"),)

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    # The user (or, before sign-in, the client address) the key belongs to.
    owner: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    # Base64 text: aiomysql cannot bind bytes with current PyMySQL, and text works everywhere.
    body: Mapped[str | None] = mapped_column(Text().with_variant(mysql.MEDIUMTEXT(), "mysql"))
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
