"""Cursor pagination: opaque cursors over a (sort key, id) pair, stable under inserts."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from quckchat.core.errors import Problem

T = TypeVar("T")
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
CURSOR_LENGTH = 512


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageQuery(BaseModel):
    """Where a page starts (the `next_cursor` of the page before) and how many items it holds."""

    cursor: str | None = Field(None, max_length=CURSOR_LENGTH)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


# A route's page, from the query string (`?cursor=&limit=`).
Paging = Annotated[PageQuery, Query()]


def encode_cursor(*values: Any) -> str:
    raw = json.dumps([v.isoformat() if hasattr(v, "isoformat") else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, "the cursor is not one this API issued", slug="bad-cursor") from exc
    if not isinstance(values, list) or len(values) != 2:
        raise Problem(400, "the cursor is not one this API issued", slug="bad-cursor")
    return values


def keyset(
    query: Select[Any],
    sort: InstrumentedAttribute[Any],
    ident: InstrumentedAttribute[Any],
    *,
    cursor: str | None,
    limit: int,
    descending: bool = True,
    parse: Any = None,
) -> Select[Any]:
    """Apply ordering, the cursor's position and limit+1 (the extra row tells if more follow)."""
    if cursor:
        sort_value, id_value = decode_cursor(cursor)
        if parse is not None:
            sort_value = parse(sort_value)
        sort_value, id_value = _position(sort_value, sort), _position(id_value, ident)
        if descending:
            query = query.where(or_(sort < sort_value, and_(sort == sort_value, ident < id_value)))
        else:
            query = query.where(or_(sort > sort_value, and_(sort == sort_value, ident > id_value)))
    order = (sort.desc(), ident.desc()) if descending else (sort.asc(), ident.asc())
    return query.order_by(*order).limit(min(limit, MAX_LIMIT) + 1)


def _position(value: Any, column: InstrumentedAttribute[Any]) -> Any:
    """A cursor value of the column's type: any other (a forged cursor) would fail in SQL."""
    expected = column.type.python_type
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
        raise Problem(400, "the cursor is not one this API issued", slug="bad-cursor")
    return value


def parse_datetime(value: Any) -> datetime:
    """Read back a timestamp cursor position (always issued with its UTC offset)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise Problem(400, "the cursor is not one this API issued", slug="bad-cursor") from exc
    if moment.tzinfo is None:
        raise Problem(400, "the cursor is not one this API issued", slug="bad-cursor")
    return moment


def page(rows: list[Any], limit: int, key: Any) -> tuple[list[Any], str | None]:
    """Split the limit+1 rows into this page and the cursor of the next (None on the last)."""
    limit = min(limit, MAX_LIMIT)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(*key(rows[-1]))


async def read_page(
    session: AsyncSession,
    query: Select[Any],
    sort: InstrumentedAttribute[Any],
    ident: InstrumentedAttribute[Any],
    *,
    paging: PageQuery,
    descending: bool = True,
    parse: Callable[[Any], Any] | None = None,
) -> tuple[list[Any], str | None]:
    """One page of the query in (sort, ident) order, and the cursor of the next (None on the
    last): the entities of a one-entity query, else its rows."""
    ordered = keyset(
        query,
        sort,
        ident,
        cursor=paging.cursor,
        limit=paging.limit,
        descending=descending,
        parse=parse,
    )
    result = await session.execute(ordered)
    one_entity = len(ordered.column_descriptions) == 1
    rows = list(result.scalars().all() if one_entity else result.all())
    return page(rows, paging.limit, key=lambda row: (_value(row, sort), _value(row, ident)))


def _value(row: Any, column: InstrumentedAttribute[Any]) -> Any:
    """The column's value in an entity, or in the row's entity of the column's class."""
    owner = column.parent.class_
    entity = row if isinstance(row, owner) else next(x for x in row if isinstance(x, owner))
    return getattr(entity, column.key)


async def document_page(
    collection: Any,
    query: dict[str, Any],
    paging: PageQuery,
    *,
    sort: str = "created_at",
    descending: bool = True,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a document query in (`sort`, _id) order, `sort` holding times, and the
    cursor of the next (None on the last)."""
    if paging.cursor:
        moment, ident = decode_cursor(paging.cursor)
        at = parse_datetime(moment)
        if not isinstance(ident, str):
            raise Problem(400, "the cursor is not one this API issued", slug="bad-cursor")
        beyond = "$lt" if descending else "$gt"
        after = {"$or": [{sort: {beyond: at}}, {sort: at, "_id": {beyond: ident}}]}
        query = {"$and": [query, after]}
    order = -1 if descending else 1
    found = (
        await collection.find(query)
        .sort([(sort, order), ("_id", order)])
        .limit(paging.limit + 1)
        .to_list(None)
    )
    return page(found, paging.limit, lambda d: (d[sort], d["_id"]))
