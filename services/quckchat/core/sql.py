"""Relational storage: SQLAlchemy 2 async on SQLite, MariaDB/MySQL and PostgreSQL.

One engine per service. Models declare their tables on a metadata from `new_metadata()`;
schema changes go through Alembic (`quckchat.core.migrations`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, event, inspect, select, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeEngine

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A metadata with stable constraint names, so migrations render the same on every database."""
    return MetaData(naming_convention=NAMING)


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC (MySQL keeps no zone) and read back as aware UTC."""

    impl = DateTime(timezone=False)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # MySQL keeps whole seconds unless told otherwise; ordering and cursors need micros.
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=False))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def IdColumn() -> String:
    return String(32)


def is_unique_violation(exc: IntegrityError) -> bool:
    """True when an insert lost a race on a unique key (the same on every supported driver)."""
    message = str(exc.orig).lower()
    return any(
        marker in message for marker in ("unique", "duplicate", "1062", "23505", "primary key")
    )


class Database:
    """The engine and session factory of one service."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if url.startswith("sqlite"):
            _ensure_sqlite_dir(url)
            kwargs.pop("pool_pre_ping")
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_recycle=1800)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "savepoint", _sqlite_begin_before_savepoint)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Set by the runtime to the service's outbox: gets what a transaction staged, once it
        # has committed (never before: a rolled-back change announces nothing).
        self.after_commit: Callable[[AsyncSession], Awaitable[None]] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
            if self.after_commit is not None:
                await self.after_commit(session)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def create_all(self, metadata: MetaData) -> None:
        """Create tables directly; for tests of a model. Services use migrations."""
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def close(self) -> None:
        await self.engine.dispose()


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; the busy timeout waits instead of failing.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_before_savepoint(conn: Connection, _name: str) -> None:
    # sqlite3 opens a transaction only before INSERT/UPDATE/DELETE: a SAVEPOINT sent first
    # would open its own, and its RELEASE would commit at once, outside the session's rollback.
    driver = conn.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        conn.exec_driver_sql("BEGIN")


T = TypeVar("T")


async def get_or_add(
    session: AsyncSession, cls: type[T], key: tuple[str, ...], fresh: Callable[[], T]
) -> tuple[T, bool]:
    """The row with primary key `key`, inserted from `fresh()` if missing; True if inserted.

    Safe against a concurrent request inserting the same key first: that row is returned.
    """
    found = await session.get(cls, key)
    if found is not None:
        return found, False
    row = fresh()
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        columns = inspect(cls).primary_key
        # A locking read sees the other transaction's row even under MySQL's REPEATABLE READ;
        # a shared one, as losers of the same race all hold shared locks (exclusive deadlocks).
        query = (
            select(cls)
            .where(*(column == value for column, value in zip(columns, key, strict=True)))
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )
        return (await session.execute(query)).scalar_one(), False
    return row, True
