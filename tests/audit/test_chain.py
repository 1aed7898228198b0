"""The hash chain on SQLite, MariaDB and PostgreSQL: append, dedupe, verify, tamper, races."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select, text, update

from quckchat.admin import events as admin_events
from quckchat.audit import chain
from quckchat.audit.models import GENESIS_HASH, AuditEntry, ChainHead
from quckchat.auth import events as auth_events
from quckchat.core import migrations
from quckchat.core.events import DomainEvent, Event
from quckchat.core.sql import Database
from quckchat.permission import events as permission_events


def login(user: str, *, tenant: str = "t1", **data: object) -> Event:
    return Event(
        type="auth.login.succeeded",
        source="auth",
        key=user,
        data={"actor": user, "user_id": user, **data},
        tenant=tenant,
    )


@pytest.fixture
async def db(sql_url: str) -> AsyncIterator[Database]:
    database = Database(sql_url)
    await migrations.upgrade(database, "audit")
    yield database
    await database.close()


async def entries(db: Database) -> list[AuditEntry]:
    async with db.session() as session:
        return list((await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all())


async def test_the_migration_seeds_the_genesis_head(db: Database) -> None:
    async with db.session() as session:
        head = (await session.execute(select(ChainHead.seq, ChainHead.hash))).all()
    assert [tuple(row) for row in head] == [(0, GENESIS_HASH)]
    assert await chain.verify(db) == chain.Verification(valid=True, entries=0)


async def test_appends_chain_each_entry_to_the_one_before(db: Database) -> None:
    event = Event(
        type="permission.role.granted",
        source="permission",
        key="ws1",
        data={"actor": "u-admin", "role": "owner", "nested": {"b": 1, "a": [1.5, "é"]}},
        tenant="ws1",
        time="2026-03-04T05:06:07.123456+02:00",
    )
    first = await chain.append(db, event=login("u1", ip="10.0.0.1"))
    second = await chain.append(db, event=event)
    stored = await entries(db)
    assert [e.seq for e in stored] == [1, 2]
    assert stored[0].prev_hash == GENESIS_HASH
    assert stored[1].prev_hash == stored[0].hash == first.hash
    assert stored[1].hash == second.hash == chain.entry_hash(stored[1])
    assert stored[0].actor == "u1"
    assert stored[0].target == "u1"
    assert stored[0].action == "auth.login.succeeded"
    assert stored[0].data["ip"] == "10.0.0.1"
    # No user_id in the data: the event's key is the target; the time keeps its microseconds.
    assert stored[1].target == "ws1"
    assert stored[1].time == datetime(2026, 3, 4, 3, 6, 7, 123456, tzinfo=UTC)
    assert stored[1].data == event.data
    assert await chain.verify(db) == chain.Verification(valid=True, entries=2)


async def test_a_redelivered_event_is_not_appended_twice(db: Database) -> None:
    event = login("u1")
    first = await chain.append(db, event=event)
    again = await chain.append(db, event=event)
    assert again.seq == first.seq == 1
    assert again.hash == first.hash
    # Redeliveries racing each other still land once.
    racing = login("u2")
    results = await asyncio.gather(*(chain.append(db, event=racing) for _ in range(5)))
    assert {entry.seq for entry in results} == {2}
    assert [e.event_id for e in await entries(db)] == [event.id, racing.id]
    assert await chain.verify(db) == chain.Verification(valid=True, entries=2)


async def test_twenty_concurrent_appends_keep_one_valid_chain(db: Database) -> None:
    events = [login(f"u{i}") for i in range(20)]
    appended = await asyncio.gather(*(chain.append(db, event=e) for e in events))
    assert sorted(e.seq for e in appended) == list(range(1, 21))
    stored = await entries(db)
    assert {e.event_id for e in stored} == {e.id for e in events}
    assert await chain.verify(db) == chain.Verification(valid=True, entries=20)


async def test_replicas_appending_at_once_share_the_chain(sql_url: str, db: Database) -> None:
    # A second engine is a second replica: its own connections, the same database.
    replica = Database(sql_url)
    try:
        events = [login(f"u{i}") for i in range(20)]
        await asyncio.gather(
            *(chain.append(db if i % 2 else replica, event=e) for i, e in enumerate(events)),
            # The same event from both replicas at once lands once.
            chain.append(db, event=events[0]),
            chain.append(replica, event=events[1]),
        )
    finally:
        await replica.close()
    stored = await entries(db)
    assert [e.seq for e in stored] == list(range(1, 21))
    assert await chain.verify(db) == chain.Verification(valid=True, entries=20)


async def fill(db: Database, count: int) -> list[AuditEntry]:
    for i in range(count):
        await chain.append(db, event=login(f"u{i}"))
    return await entries(db)


async def test_changed_data_is_reported_at_its_seq(db: Database) -> None:
    await fill(db, 6)
    async with db.session() as session:
        await session.execute(
            update(AuditEntry).where(AuditEntry.seq == 4).values(data={"actor": "mallory"})
        )
    result = await chain.verify(db, batch_size=2)
    assert result.valid is False
    assert result.first_broken_seq == 4
    assert result.entries == 3
    assert result.reason is not None and "hash" in result.reason


async def test_a_rehashed_forgery_breaks_the_next_link(db: Database) -> None:
    stored = await fill(db, 5)
    forged = stored[1]
    forged.actor = "mallory"
    new_hash = chain.entry_hash(forged)
    async with db.session() as session:
        await session.execute(
            text("UPDATE audit_entries SET actor = 'mallory', hash = :h WHERE seq = 2"),
            {"h": new_hash},
        )
    result = await chain.verify(db)
    assert (result.valid, result.first_broken_seq) == (False, 3)
    assert result.reason is not None and "prev_hash" in result.reason


async def test_a_deleted_entry_is_reported_missing(db: Database) -> None:
    await fill(db, 5)
    async with db.session() as session:
        await session.execute(text("DELETE FROM audit_entries WHERE seq = 3"))
    result = await chain.verify(db, batch_size=2)
    assert (result.valid, result.first_broken_seq, result.entries) == (False, 3, 2)
    assert result.reason == "entry 3 is missing"


async def test_a_truncated_tail_is_caught_by_the_head(db: Database) -> None:
    await fill(db, 4)
    async with db.session() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.seq >= 3))
    result = await chain.verify(db)
    assert (result.valid, result.first_broken_seq, result.entries) == (False, 3, 2)


async def test_a_rewritten_timestamp_is_detected(db: Database) -> None:
    await fill(db, 3)
    async with db.session() as session:
        await session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == 1)
            .values(time=datetime(2020, 1, 1, tzinfo=UTC))
        )
    result = await chain.verify(db)
    assert (result.valid, result.first_broken_seq) == (False, 1)


async def test_verify_walks_the_whole_log_in_batches(db: Database) -> None:
    await fill(db, 7)
    assert await chain.verify(db, batch_size=3) == chain.Verification(valid=True, entries=7)
    async with db.session() as session:
        count = await session.scalar(select(func.count()).select_from(AuditEntry))
    assert count == 7


async def test_odd_event_values_are_kept_within_the_columns(db: Database) -> None:
    event = Event(
        type="auth." + "x" * 300,
        source="auth",
        key="k" * 400,
        data={"actor": 12345, "when": datetime(2026, 1, 1, tzinfo=UTC)},
        tenant=None,
        id=uuid.uuid4().hex,
        time="not a time",
    )
    entry = await chain.append(db, event=event)
    assert entry.actor == "12345"
    assert len(entry.action) == 128
    assert entry.target == "k" * 255
    assert entry.data["when"] == "2026-01-01 00:00:00+00:00"
    assert (await chain.verify(db)).valid


@pytest.mark.parametrize(
    ("event", "actor", "target"),
    [
        (
            auth_events.LoginFailed(method="password", attempted_email="x@example.com"),
            None,
            "x@example.com",
        ),
        (auth_events.UserSuspended(user_id="u1", reason="spam"), None, "u1"),
        (auth_events.OtpFailed(phone_hash="ab" * 32, attempt=2), None, "ab" * 32),
        (
            permission_events.RoleRevoked(actor="ann", user_id="mo", role="member", tenant="t1"),
            "ann",
            "mo",
        ),
        (admin_events.UsersSearched(actor="root", query="bob"), "root", "root"),
        (admin_events.UserLoggedOut(actor="root", user_id="u1", revoked_sessions=2), "root", "u1"),
    ],
)
def test_an_entry_names_who_did_what_to_whom_in_the_producers_events(
    event: DomainEvent, actor: str | None, target: str
) -> None:
    source = event.type.split(".")[0]
    fields = chain.entry_fields(Event.of(event, source=source, tenant="t1"))
    assert (fields["action"], fields["actor"], fields["target"]) == (event.type, actor, target)
    assert fields["data"] == event.model_dump(mode="json")
