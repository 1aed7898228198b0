"""`quckchat.core.sql`: transactions and savepoints behave alike on all three databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, String, Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from quckchat.core.sql import Database, new_metadata

metadata = new_metadata()
notes = Table("notes", metadata, Column("id", String(32), primary_key=True))


@pytest.fixture
async def db(sql_url: str) -> AsyncIterator[Database]:
    database = Database(sql_url)
    await database.create_all(metadata)
    yield database
    await database.close()


async def count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(notes)) or 0)


async def test_a_savepoint_opened_first_is_rolled_back_with_its_transaction(db: Database) -> None:
    # The shape of `first_delivery` and of insert-or-get: the savepoint is the first statement.
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            async with session.begin_nested():
                await session.execute(insert(notes).values(id="n1"))
            raise RuntimeError("the rest of the work failed")
    assert await count(db) == 0


async def test_a_failed_savepoint_keeps_the_transaction_usable(db: Database) -> None:
    async with db.session() as session:
        await session.execute(insert(notes).values(id="n1"))
    async with db.session() as session:
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await session.execute(insert(notes).values(id="n1"))
        await session.execute(insert(notes).values(id="n2"))
    assert await count(db) == 2


async def test_a_session_commits_on_success_and_rolls_back_on_error(db: Database) -> None:
    async with db.session() as session:
        await session.execute(insert(notes).values(id="kept"))
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await session.execute(insert(notes).values(id="dropped"))
            raise RuntimeError("boom")
    async with db.session() as session:
        assert list((await session.scalars(select(notes.c.id))).all()) == ["kept"]
