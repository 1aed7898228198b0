"""The policy store: casbin rules, one row each, the source every replica loads from."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from quckchat.core.outbox import outbox_table
from quckchat.core.sql import IdColumn, UTCDateTime, new_id, new_metadata, utcnow

metadata = new_metadata()
outbox = outbox_table(metadata, "permission")

VALUE_LENGTH = 255


class Base(DeclarativeBase):
    metadata = metadata


class PolicyRule(Base):
    """One casbin line: `p, role, domain, object, action` or `g, user, role, domain`."""

    __tablename__ = "policy_rules"
    __table_args__ = (
        Index("ix_policy_rules_ptype_v0", "ptype", "v0"),
        Index("ix_policy_rules_ptype_v2", "ptype", "v2"),
    )

    id: Mapped[str] = mapped_column(IdColumn(), primary_key=True, default=new_id)
    ptype: Mapped[str] = mapped_column(String(8))
    v0: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    v1: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    v2: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    v3: Mapped[str | None] = mapped_column(String(VALUE_LENGTH))
    v4: Mapped[str | None] = mapped_column(String(VALUE_LENGTH))
    v5: Mapped[str | None] = mapped_column(String(VALUE_LENGTH))
    # What must be unique (see rule_key); the values are too long to index together on MySQL.
    rule_key: Mapped[str] = mapped_column(String(64), unique=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def values(self) -> tuple[str, ...]:
        """The rule as casbin reads it: ptype first, unused trailing fields left out."""
        fields = (self.v0, self.v1, self.v2, self.v3, self.v4, self.v5)
        return (self.ptype, *(v for v in fields if v is not None))


def rule_key(ptype: str, *values: str) -> str:
    """A policy rule is unique as a whole; an assignment per (user, domain): one role each."""
    identity = (ptype, values[0], values[2]) if ptype == "g" else (ptype, *values)
    return hashlib.sha256("\x1f".join(identity).encode()).hexdigest()
