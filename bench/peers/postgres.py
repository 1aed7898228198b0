"""A database of its own on the test bed's PostgreSQL for a peer, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support import server


@dataclass(frozen=True)
class Database:
    host: str
    port: int
    user: str
    password: str
    name: str

    @property
    def url(self) -> str:
        return (
            f"postgres://{self.user}:{self.password}@{self.host}:{self.port}/{self.name}"
            "?sslmode=disable"
        )


@asynccontextmanager
async def peer_database(label: str) -> AsyncIterator[Database]:
    """A new database in the C locale (Synapse requires it), dropped with its connections."""
    base = make_url(server("postgres"))
    name = f"peer_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(
                text(
                    f"CREATE DATABASE {name} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' "
                    "TEMPLATE template0"
                )
            )
        yield Database(
            host=base.host or "127.0.0.1",
            port=base.port or 5432,
            user=base.username or "",
            password=base.password or "",
            name=name,
        )
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await admin.dispose()
