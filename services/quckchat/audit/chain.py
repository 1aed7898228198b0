"""The hash chain: serialized appends and a streaming verification of the whole log.

Every entry's hash covers its content and the hash of the entry before, so changing, removing
or reordering any entry breaks the chain from there on. Appends are serialized across replicas
by a compare-and-swap on the one-row chain head, in the same transaction as the insert.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from quckchat.audit.models import GENESIS_HASH, HEAD_ID, AuditEntry, ChainHead
from quckchat.core import logging as qlog
from quckchat.core.events import Event
from quckchat.core.sql import Database, is_unique_violation, utcnow

log = qlog.get("audit.chain")

MAX_APPEND_ATTEMPTS = 500
VERIFY_BATCH = 500
# Lock and serialization errors that a retried append gets past (SQLite, MySQL, PostgreSQL).
_CONTENTION_MARKERS = (
    "database is locked",
    "database table is locked",
    "deadlock",
    "lock wait timeout",
    "could not serialize",
    "1213",
    "1205",
    "40001",
    "40p01",
)


class _HeadMoved(Exception):
    """Another append moved the chain head between our read and our swap."""


def canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(entry: AuditEntry) -> str:
    """sha256 over the canonical JSON of the chained fields (recorded_at is not chained)."""
    chained = {
        "seq": entry.seq,
        "event_id": entry.event_id,
        "time": canonical_time(entry.time),
        "actor": entry.actor,
        "action": entry.action,
        "tenant": entry.tenant,
        "target": entry.target,
        "source": entry.source,
        "data": entry.data,
        "prev_hash": entry.prev_hash,
    }
    raw = json.dumps(chained, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _event_time(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        return utcnow()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _clip(value: Any, length: int) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:length]


def entry_fields(event: Event) -> dict[str, Any]:
    """What an event contributes to its entry, in the exact form the database gives back."""
    # A JSON round trip now, so the hash covers what a later read of the column returns.
    data = json.loads(json.dumps(event.data, default=str))
    return {
        "event_id": event.id[:64],
        "time": _event_time(event.time),
        "actor": _clip(data.get("actor"), 128),
        "action": event.type[:128],
        "tenant": _clip(event.tenant, 128),
        "target": _clip(data.get("user_id") or event.key, 255),
        "source": event.source[:64],
        "data": data,
    }


def _is_contention(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return any(marker in message for marker in _CONTENTION_MARKERS)


async def _try_append(db: Database, fields: dict[str, Any]) -> AuditEntry:
    async with db.session() as session:
        existing = await session.scalar(
            select(AuditEntry).where(AuditEntry.event_id == fields["event_id"])
        )
        if existing is not None:
            return existing
        head = (
            await session.execute(
                select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == HEAD_ID)
            )
        ).one()
        entry = AuditEntry(seq=head.seq + 1, prev_hash=head.hash, recorded_at=utcnow(), **fields)
        entry.hash = entry_hash(entry)
        swapped = await session.execute(
            update(ChainHead)
            .where(ChainHead.id == HEAD_ID, ChainHead.seq == head.seq)
            .values(seq=entry.seq, hash=entry.hash)
            .execution_options(synchronize_session=False)
        )
        if swapped.rowcount != 1:  # type: ignore[attr-defined]
            raise _HeadMoved
        session.add(entry)
    return entry


async def append(db: Database, *, event: Event) -> AuditEntry:
    """Append the event as the next entry; a redelivered event returns its existing entry."""
    fields = entry_fields(event)
    for attempt in range(MAX_APPEND_ATTEMPTS):
        try:
            return await _try_append(db, fields)
        except _HeadMoved:
            pass
        except IntegrityError as exc:
            # A replica appended the same event at the same moment; the next try finds it.
            if not is_unique_violation(exc):
                raise
        except DBAPIError as exc:
            if not _is_contention(exc):
                raise
        # Jittered backoff so contending replicas do not retry in lockstep.
        await asyncio.sleep(random.uniform(0, min(0.05, 0.002 * (attempt + 1))))
    raise RuntimeError(f"event {event.id} could not be appended: the chain head kept moving")


@dataclass(frozen=True)
class Verification:
    valid: bool
    entries: int
    first_broken_seq: int | None = None
    reason: str | None = None


async def verify(db: Database, *, batch_size: int = VERIFY_BATCH) -> Verification:
    """Recompute the chain from entry 1 up to the head, a batch at a time."""
    async with db.session() as session:
        head = (
            await session.execute(
                select(ChainHead.seq, ChainHead.hash).where(ChainHead.id == HEAD_ID)
            )
        ).one()
    expected_seq, expected_prev, checked = 1, GENESIS_HASH, 0

    def broken(seq: int, reason: str) -> Verification:
        return Verification(valid=False, entries=checked, first_broken_seq=seq, reason=reason)

    while expected_seq <= head.seq:
        async with db.session() as session:
            rows = (
                await session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.seq >= expected_seq, AuditEntry.seq <= head.seq)
                    .order_by(AuditEntry.seq)
                    .limit(batch_size)
                )
            ).all()
        if not rows:
            return broken(expected_seq, f"entries {expected_seq}..{head.seq} are missing")
        for row in rows:
            if row.seq != expected_seq:
                return broken(expected_seq, f"entry {expected_seq} is missing")
            if row.prev_hash != expected_prev:
                return broken(row.seq, "prev_hash does not match the hash of the entry before")
            if entry_hash(row) != row.hash:
                return broken(row.seq, "the hash does not match the entry's content")
            expected_seq, expected_prev, checked = row.seq + 1, row.hash, checked + 1
    if head.hash != expected_prev:
        return broken(head.seq, "the chain head does not match the last entry's hash")
    return Verification(valid=True, entries=checked)
