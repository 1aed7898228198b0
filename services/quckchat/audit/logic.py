"""Reading the audit log: filtered pages, and a batched stream of entries for export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.audit.models import AuditEntry
from quckchat.audit.schemas import AuditEntryPublic, EntryPageQuery, EntryQuery
from quckchat.core.errors import Problem
from quckchat.core.pagination import Page, decode_cursor, page
from quckchat.core.sql import Database

EXPORT_BATCH = 500
CSV_COLUMNS = tuple(AuditEntryPublic.model_fields)


def filtered(query: Select[Any], filters: EntryQuery) -> Select[Any]:
    if filters.actor is not None:
        query = query.where(AuditEntry.actor == filters.actor)
    if filters.action is not None:
        if filters.action.endswith("*"):
            query = query.where(AuditEntry.action.startswith(filters.action[:-1], autoescape=True))
        else:
            query = query.where(AuditEntry.action == filters.action)
    if filters.tenant is not None:
        query = query.where(AuditEntry.tenant == filters.tenant)
    if filters.target is not None:
        query = query.where(AuditEntry.target == filters.target)
    if filters.since is not None:
        query = query.where(AuditEntry.time >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEntry.time < filters.until)
    return query


def _seq_of(cursor: str) -> int:
    seq, again = decode_cursor(cursor)
    if type(seq) is not int or seq != again:
        raise Problem(400, "the cursor is not one this API issued", slug="bad-cursor")
    return seq


async def entry_page(session: AsyncSession, *, query: EntryPageQuery) -> Page[AuditEntryPublic]:
    """Matching entries, newest (highest seq) first, and the cursor of the next page."""
    statement = filtered(select(AuditEntry), query)
    if query.cursor:
        statement = statement.where(AuditEntry.seq < _seq_of(query.cursor))
    statement = statement.order_by(AuditEntry.seq.desc()).limit(query.limit + 1)
    rows, next_cursor = page(
        list((await session.scalars(statement)).all()), query.limit, lambda e: (e.seq, e.seq)
    )
    return Page[AuditEntryPublic](
        items=[AuditEntryPublic.model_validate(row) for row in rows], next_cursor=next_cursor
    )


async def stream_entries(
    db: Database, *, filters: EntryQuery, batch_size: int = EXPORT_BATCH
) -> AsyncIterator[AuditEntry]:
    """Every matching entry in log order, read a batch per short transaction."""
    after = 0
    while True:
        async with db.session() as session:
            rows = (
                await session.scalars(
                    filtered(select(AuditEntry), filters)
                    .where(AuditEntry.seq > after)
                    .order_by(AuditEntry.seq)
                    .limit(batch_size)
                )
            ).all()
        for row in rows:
            yield row
        if len(rows) < batch_size:
            return
        after = rows[-1].seq


def _public(entry: AuditEntry) -> dict[str, Any]:
    return AuditEntryPublic.model_validate(entry).model_dump(mode="json")


async def export_jsonl(entries: AsyncIterator[AuditEntry]) -> AsyncIterator[str]:
    async for entry in entries:
        yield json.dumps(_public(entry), separators=(",", ":"), ensure_ascii=False) + "\n"


async def export_csv(entries: AsyncIterator[AuditEntry]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writeheader()
    yield flush()
    async for entry in entries:
        row = _public(entry)
        row["data"] = json.dumps(row["data"], separators=(",", ":"), ensure_ascii=False)
        writer.writerow(row)
        yield flush()
