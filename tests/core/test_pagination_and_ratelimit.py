"""Cursor pagination over a real table on three databases, and Redis rate limits."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import Select, String, insert, literal, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from quckchat.core import cache as cache_mod
from quckchat.core import ratelimit
from quckchat.core.errors import Problem
from quckchat.core.pagination import (
    MAX_LIMIT,
    PageQuery,
    decode_cursor,
    encode_cursor,
    keyset,
    page,
    parse_datetime,
    read_page,
)
from quckchat.core.sql import Database, UTCDateTime, new_id, new_metadata
from tests.support import server


class Base(DeclarativeBase):
    metadata = new_metadata()


class Item(Base):
    __tablename__ = "items"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def raw_cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_cursor_round_trips_its_values() -> None:
    when = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    cursor = encode_cursor(when, "abc123")
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor
    sort, ident = decode_cursor(cursor)
    assert parse_datetime(sort) == when
    assert ident == "abc123"
    assert decode_cursor(encode_cursor(42, "x")) == [42, "x"]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "%%%",
        raw_cursor({"not": "a list"}),
        raw_cursor([1, 2, 3]),
        raw_cursor(["only one"]),
        base64.urlsafe_b64encode(b"\xff\xfe not utf-8").decode(),
        base64.urlsafe_b64encode(b"not json").decode(),
    ],
)
def test_a_cursor_this_api_did_not_issue_is_a_400(cursor: str) -> None:
    with pytest.raises(Problem) as caught:
        decode_cursor(cursor)
    assert caught.value.status == 400
    assert caught.value.slug == "bad-cursor"


@pytest.mark.parametrize("value", ["yesterday", 17, None, "2026-01-01T12:00:00"])
def test_a_cursor_position_that_is_no_timestamp_is_a_400(value: object) -> None:
    with pytest.raises(Problem) as caught:
        parse_datetime(value)
    assert (caught.value.status, caught.value.slug) == (400, "bad-cursor")


@pytest.fixture
async def db(sql_url: str) -> AsyncIterator[Database]:
    database = Database(sql_url)
    await database.create_all(Base.metadata)
    yield database
    await database.close()


async def seed(db: Database) -> list[tuple[datetime, str]]:
    """25 rows; three share each timestamp, so the id has to break the ties."""
    base = datetime(2026, 1, 1, 12, 0, 0, 250_001, tzinfo=UTC)
    rows = [(base + timedelta(microseconds=7 * (i // 3)), new_id()) for i in range(25)]
    async with db.session() as session:
        await session.execute(insert(Item), [{"created_at": t, "id": i} for t, i in rows])
    return rows


async def walk(
    db: Database, *, limit: int, descending: bool, query: Select[Any] | None = None
) -> list[list[Item]]:
    """Follow next_cursor from the first page to the last, as a client would."""
    pages: list[list[Item]] = []
    cursor: str | None = None
    while True:
        async with db.session() as session:
            rows, cursor = await read_page(
                session,
                select(Item) if query is None else query,
                Item.created_at,
                Item.id,
                paging=PageQuery(cursor=cursor, limit=limit),
                descending=descending,
                parse=parse_datetime,
            )
        pages.append([row if isinstance(row, Item) else row[1] for row in rows])
        if cursor is None:
            return pages
        assert len(pages) < 10, "pagination does not end"


@pytest.mark.parametrize("descending", [True, False], ids=["newest-first", "oldest-first"])
async def test_pages_visit_every_row_once_in_order(db: Database, descending: bool) -> None:
    expected = sorted(await seed(db), reverse=descending)
    pages = await walk(db, limit=10, descending=descending)
    assert [len(p) for p in pages] == [10, 10, 5]
    seen = [(item.created_at, item.id) for p in pages for item in p]
    assert seen == expected
    assert len({ident for _, ident in seen}) == 25


async def test_rows_of_several_columns_page_by_their_entity(db: Database) -> None:
    expected = sorted(await seed(db), reverse=True)
    query = select(literal("tag").label("tag"), Item)
    pages = await walk(db, limit=10, descending=True, query=query)
    assert [(item.created_at, item.id) for p in pages for item in p] == expected


@pytest.mark.parametrize(
    "position",
    [
        ["2026-01-01T12:00:00", "abc"],
        ["2026-01-01", "abc"],
        ["2026-01-01T12:00:00+00:00", 5],
        ["2026-01-01T12:00:00+00:00", None],
        ["2026-01-01T12:00:00+00:00", {"id": "abc"}],
        ["2026-01-01T12:00:00+00:00", True],
    ],
    ids=["naive-time", "naive-date", "int-id", "null-id", "object-id", "bool-id"],
)
async def test_a_forged_cursor_is_a_400_not_a_database_error(
    db: Database, position: list[object]
) -> None:
    await seed(db)
    with pytest.raises(Problem) as caught:
        query = keyset(
            select(Item),
            Item.created_at,
            Item.id,
            cursor=raw_cursor(position),
            limit=10,
            parse=parse_datetime,
        )
        async with db.session() as session:
            await session.scalars(query)
    assert (caught.value.status, caught.value.slug) == (400, "bad-cursor")


def test_a_timestamp_cursor_read_without_parse_is_refused() -> None:
    cursor = encode_cursor(datetime(2026, 1, 1, tzinfo=UTC), new_id())
    with pytest.raises(Problem) as caught:
        keyset(select(Item), Item.created_at, Item.id, cursor=cursor, limit=10)
    assert caught.value.status == 400


async def test_an_exact_multiple_of_the_limit_ends_without_an_empty_page(db: Database) -> None:
    await seed(db)
    pages = await walk(db, limit=5, descending=True)
    assert [len(p) for p in pages] == [5, 5, 5, 5, 5]


async def test_a_huge_limit_is_capped(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.session() as session:
        await session.execute(insert(Item), [{"created_at": now} for _ in range(MAX_LIMIT + 5)])
        query = keyset(select(Item), Item.created_at, Item.id, cursor=None, limit=10_000)
        rows = list((await session.scalars(query)).all())
    assert len(rows) == MAX_LIMIT + 1
    items, cursor = page(rows, 10_000, key=lambda item: (item.created_at, item.id))
    assert len(items) == MAX_LIMIT and cursor is not None


@pytest.fixture(params=[pytest.param("real", marks=pytest.mark.redis), "embedded"])
async def redis(request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    client = cache_mod.connect(server("redis") if request.param == "real" else None)
    yield client
    await client.aclose()


async def test_the_hit_after_the_limit_is_refused_until_the_window_ends(redis: Redis) -> None:
    limit, window = 5, 60
    for _ in range(3):
        # The count restarts with each window: retry if this run straddled a boundary.
        key = f"test:{uuid.uuid4().hex}"
        bucket = int(time.time()) // window
        verdicts = [await ratelimit.hit(redis, key, limit=limit, window=window) for _ in range(7)]
        if int(time.time()) // window == bucket:
            break
    assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 2
    assert [v.remaining for v in verdicts] == [4, 3, 2, 1, 0, 0, 0]
    assert all(v.limit == limit for v in verdicts)
    refused = verdicts[5]
    assert 0 < refused.retry_after <= window
    ttl = await redis.ttl(f"qc:rl:{key}:{bucket}")
    assert 0 < ttl <= window + 1


async def test_limits_are_counted_per_key(redis: Redis) -> None:
    first, second = f"test:{uuid.uuid4().hex}", f"test:{uuid.uuid4().hex}"
    for _ in range(3):
        await ratelimit.hit(redis, first, limit=2, window=3600)
    verdict = await ratelimit.hit(redis, second, limit=2, window=3600)
    assert verdict.allowed and verdict.remaining == 1
