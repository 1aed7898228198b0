"""The SQL outbox on SQLite, MariaDB and PostgreSQL: nothing before commit, nothing for a
rollback, nothing lost when the broker is away, and per-key order kept through the relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import ClassVar

import pytest
from sqlalchemy import select, update

from quckchat import catalog
from quckchat.core import outbox
from quckchat.core.events import Audience, DomainEvent, Event, Handler
from quckchat.core.outbox import Outbox, outbox_table
from quckchat.core.runtime import build
from quckchat.core.settings import Settings
from quckchat.core.sql import Database, new_metadata, utcnow


class Noted(DomainEvent):
    type: ClassVar[str] = "sample.noted"
    thing_id: str
    n: int

    @property
    def key(self) -> str:
        return self.thing_id

    def audience(self) -> Audience | None:
        return Audience(users=(self.thing_id,))


class RecordingBus:
    """An EventBus that keeps what it is given and can be made to refuse (a broker away)."""

    def __init__(self) -> None:
        self.sent: list[Event] = []
        self.down = False

    def subscribe(
        self, group: str, topics: list[str], handler: Handler, *, broadcast: bool = False
    ) -> None:
        raise NotImplementedError

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def ping(self) -> None: ...

    async def publish(self, topic: str, event: Event) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        self.sent.append(event)


@pytest.fixture
async def box(sql_url: str) -> AsyncIterator[tuple[Database, Outbox, RecordingBus]]:
    metadata = new_metadata()
    table = outbox_table(metadata, "sample")
    db = Database(sql_url)
    await db.create_all(metadata)
    bus = RecordingBus()
    box = Outbox(db, table, bus, "quckchat.sample")
    db.after_commit = box.after_commit
    yield db, box, bus
    await db.close()


def noted(thing: str, n: int) -> Event:
    return Event.of(Noted(thing_id=thing, n=n), source="sample", tenant="t1")


async def stage(db: Database, box: Outbox, *events: Event, fail: bool = False) -> None:
    async with db.session() as session:
        for event in events:
            await outbox.stage(session, box.table, event)
        if fail:
            raise RuntimeError("the change failed")


async def test_an_event_goes_out_after_its_commit_and_leaves_no_row(box: tuple) -> None:
    db, outbox_, bus = box
    event = noted("a", 1)
    await stage(db, outbox_, event)
    assert [e.id for e in bus.sent] == [event.id]
    sent = bus.sent[0]
    assert (sent.type, sent.key, sent.data, sent.tenant) == ("sample.noted", "a", event.data, "t1")
    assert sent.audience == Audience(users=("a",))
    assert await outbox_.pending() == 0


async def test_a_rolled_back_change_announces_nothing(box: tuple) -> None:
    db, outbox_, bus = box
    with pytest.raises(RuntimeError):
        await stage(db, outbox_, noted("a", 1), fail=True)
    assert bus.sent == []
    assert await outbox_.pending() == 0
    assert await outbox_.relay() == 0


async def test_with_the_broker_away_events_wait_and_the_relay_sends_them_in_order(
    box: tuple,
) -> None:
    db, outbox_, bus = box
    woken: list[bool] = []
    outbox_.wake = lambda: woken.append(True)
    bus.down = True
    first, second = noted("a", 1), noted("a", 2)
    await stage(db, outbox_, first)
    await stage(db, outbox_, second)  # the change itself succeeds: the event waits
    assert bus.sent == [] and await outbox_.pending() == 2
    assert woken == [True]  # the second never tried the broker: it joined the first
    bus.down = False
    third, other = noted("a", 3), noted("b", 1)
    await stage(db, outbox_, third, other)
    # Key "a" has a backlog: its new event joins it rather than going out beside the relay.
    assert bus.sent == [] and woken == [True, True]
    # Failed rows need no grace period; one publisher sends them in order, each once.
    assert await outbox_.relay() == 4
    assert [e.data["n"] for e in bus.sent if e.key == "a"] == [1, 2, 3]
    assert [e.id for e in bus.sent].count(first.id) == 1
    assert await outbox_.pending() == 0
    fourth = noted("a", 4)
    await stage(db, outbox_, fourth)  # the backlog gone, a commit publishes at once again
    assert bus.sent[-1].id == fourth.id


async def test_the_relay_publishes_what_no_request_did_in_order(
    box: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, outbox_, bus = box
    monkeypatch.setattr(db, "after_commit", None)  # requests that died before publishing
    staged = [noted("a", n) for n in range(1, 6)]
    for event in staged:
        await stage(db, outbox_, event)
    assert await outbox_.relay() == 0  # within the grace period the request may still publish
    monkeypatch.setattr(outbox, "GRACE", timedelta(0))
    assert await outbox_.relay() == 5
    assert [e.id for e in bus.sent] == [e.id for e in staged]
    assert await outbox_.pending() == 0


async def test_rows_claimed_by_another_replica_are_left_to_it_until_the_lease_ends(
    box: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, outbox_, bus = box
    monkeypatch.setattr(outbox, "GRACE", timedelta(0))
    bus.down = True
    await stage(db, outbox_, noted("a", 1))
    bus.down = False
    c = outbox_.table.c
    async with db.session() as session:
        await session.execute(
            update(outbox_.table).values(claim="other", claimed_until=utcnow() + timedelta(60))
        )
    # A newer row of the key the other replica is sending is left to it too (one publisher).
    await stage(db, outbox_, noted("a", 2))
    assert await outbox_.relay() == 0 and bus.sent == []
    async with db.session() as session:
        await session.execute(
            update(outbox_.table)
            .where(c.claim == "other")
            .values(claimed_until=utcnow() - timedelta(seconds=1))
        )
    assert await outbox_.relay() == 2
    assert [e.data["n"] for e in bus.sent] == [1, 2]
    async with db.sessions() as session:
        assert (await session.scalars(select(c.seq))).all() == []


async def test_a_failed_relay_keeps_the_rest_for_the_next_tick(
    box: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, outbox_, bus = box
    monkeypatch.setattr(outbox, "GRACE", timedelta(0))
    monkeypatch.setattr(outbox, "LEASE", timedelta(0))
    bus.down = True
    await stage(db, outbox_, noted("a", 1), noted("a", 2))
    assert await outbox_.relay() == 0 and await outbox_.pending() == 2
    bus.down = False
    assert await outbox_.relay() == 2
    assert [e.data["n"] for e in bus.sent] == [1, 2]


async def test_a_sql_service_emits_only_inside_the_change_transaction(tmp_path: object) -> None:
    runtime = build(
        catalog.get("channel"),
        Settings(service="channel", database_url="sqlite+aiosqlite:///:memory:"),
    )
    assert runtime.outbox is not None
    with pytest.raises(RuntimeError, match="session"):
        await runtime.emit(Noted(thing_id="a", n=1), tenant=None)
    assert runtime.db is not None
    await runtime.db.close()
    await runtime.cache.aclose()
