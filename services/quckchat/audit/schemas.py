"""What the audit API reads and answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from quckchat.core.pagination import PageQuery


class EntryQuery(BaseModel):
    """Filters shared by listing, export and the internal API; all optional, combined with AND."""

    actor: str | None = Field(None, max_length=128, description="who acted (a user id)")
    action: str | None = Field(
        None,
        max_length=128,
        description="an event type, exact (`auth.login.succeeded`) or a prefix (`auth.*`)",
    )
    tenant: str | None = Field(None, max_length=128)
    target: str | None = Field(None, max_length=255, description="whom the action was about")
    since: datetime | None = Field(None, description="event time at or after (ISO 8601)")
    until: datetime | None = Field(None, description="event time before (ISO 8601)")

    @field_validator("since", "until")
    @classmethod
    def _as_utc(cls, value: datetime | None) -> datetime | None:
        # A time without a zone is read as UTC, the zone every entry is kept in.
        if value is None:
            return None
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("the time is out of range") from exc


class EntryPageQuery(EntryQuery, PageQuery):
    pass


class ExportQuery(EntryQuery):
    format: Literal["jsonl", "csv"] = "jsonl"


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    event_id: str
    time: datetime
    recorded_at: datetime
    actor: str | None
    action: str
    tenant: str | None
    target: str | None
    source: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


class VerificationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    valid: bool
    entries: int = Field(description="entries found intact, from the first up to a break")
    first_broken_seq: int | None = None
    reason: str | None = None
