"""The audit log: append-only entries, each chained to the one before by its hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from quckchat.core.sql import UTCDateTime, new_metadata

metadata = new_metadata()

# The prev_hash of entry 1, and the hash the chain head starts from.
GENESIS_HASH = "0" * 64
HEAD_ID = 1


class PreciseUTCDateTime(UTCDateTime):
    """UTCDateTime with microseconds on MySQL too: a hashed time must read back exactly."""

    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(self.impl)


class Base(DeclarativeBase):
    metadata = metadata


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    time: Mapped[datetime] = mapped_column(PreciseUTCDateTime(), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    action: Mapped[str] = mapped_column(sa.String(128), index=True)
    tenant: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    target: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    source: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class ChainHead(Base):
    """One row: the last appended seq and hash. Appends move it by compare-and-swap."""

    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    hash: Mapped[str] = mapped_column(sa.String(64))
