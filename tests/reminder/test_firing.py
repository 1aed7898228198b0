"""Due reminders fire exactly once: with replicas racing on one database, and after restarts.

Every test runs on SQLite, the real MariaDB and the real PostgreSQL (the `sql_url` fixture).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from quckchat.core.sql import new_id, utcnow
from quckchat.reminder import firing
from quckchat.reminder.models import FIRED, FIRING, PENDING, Reminder
from tests.reminder.conftest import fired_events, replica, tick_every
from tests.support import TestKeys

pytestmark = pytest.mark.timeout(120)


async def add_reminders(
    runtime: Runtime, count: int, *, due: datetime, user: str = "someone", **values: object
) -> list[str]:
    """Reminders written as the API would, in one transaction."""
    ids = [new_id() for _ in range(count)]
    rows = [
        {
            "id": rid,
            "tenant": "default",
            "user_id": user,
            "text": f"reminder {n}",
            "timezone": "UTC",
            "wall_time": due.time().isoformat(),
            "scheduled_at": due,
            "due_at": due,
            "status": PENDING,
            "occurrence": 0,
            "created_at": utcnow(),
            "updated_at": utcnow(),
            **values,
        }
        for n, rid in enumerate(ids)
    ]
    assert runtime.db is not None
    async with runtime.db.session() as session:
        await session.execute(insert(Reminder), rows)
    return ids


async def statuses(runtime: Runtime) -> dict[tuple[str, int], int]:
    assert runtime.db is not None
    async with runtime.db.session() as session:
        query = select(Reminder.status, Reminder.occurrence, func.count()).group_by(
            Reminder.status, Reminder.occurrence
        )
        return {(s, o): n for s, o, n in (await session.execute(query)).all()}


async def test_one_claim_wins_among_replicas_racing_for_it(
    settings: Settings, keys: TestKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    tick_every(monkeypatch, 3600)  # the loops stay out of the way
    async with replica(settings, keys) as (one, _), replica(settings, keys) as (two, _):
        [rid] = await add_reminders(one, 1, due=utcnow() - timedelta(seconds=1))
        assert one.db is not None and two.db is not None
        now = utcnow()
        claims = await asyncio.gather(*(firing.claim(db, rid, now) for db in [one.db, two.db] * 5))
        assert claims.count(True) == 1
        assert await statuses(one) == {(FIRING, 0): 1}


async def test_two_replicas_racing_over_due_reminders_fire_each_once(
    settings: Settings, keys: TestKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    tick_every(monkeypatch, 3600)  # the test starts the race itself
    async with (
        replica(settings, keys) as (one, _),
        replica(settings, keys) as (two, _),
        fired_events(settings) as fired,
    ):
        ids = await add_reminders(one, 150, due=utcnow() - timedelta(seconds=1))
        counts = await asyncio.gather(
            firing.fire_due(one), firing.fire_due(two), firing.fire_due(one), firing.fire_due(two)
        )
        events = fired.drain()
        assert sorted(e.data["reminder_id"] for e in events) == sorted(ids)
        assert sorted(e.id for e in events) == sorted(f"{rid}.1" for rid in ids)
        assert sum(counts) == len(ids)
        assert counts[0] + counts[2] > 0 and counts[1] + counts[3] > 0, counts  # both took part
        assert await statuses(one) == {(FIRED, 1): len(ids)}
        assert await firing.fire_due(one) + await firing.fire_due(two) == 0


async def test_running_replicas_fire_each_reminder_once(settings: Settings, keys: TestKeys) -> None:
    async with (
        replica(settings, keys) as (one, _),
        replica(settings, keys),
        fired_events(settings) as fired,
    ):
        ids = await add_reminders(one, 60, due=utcnow() + timedelta(seconds=0.5))
        for rid in ids:
            await fired.wait_for("reminder.fired", reminder_id=rid)
        await asyncio.sleep(0.3)  # a few more ticks of both loops
        assert fired.drain() == []
        assert await statuses(one) == {(FIRED, 1): len(ids)}


async def test_an_overdue_reminder_fires_once_after_a_restart(
    settings: Settings, keys: TestKeys
) -> None:
    async with replica(settings, keys) as (_, client):
        created = await client.post(
            "/", json={"text": "stand-up", "after_seconds": 1}, headers=keys.header("ann")
        )
        assert created.status_code == 201, created.text
    reminder = created.json()
    await asyncio.sleep(1.2)  # it falls due while no replica runs

    async with fired_events(settings) as fired:
        async with replica(settings, keys):
            event = await fired.wait_for("reminder.fired", reminder_id=reminder["id"])
        assert event.id == f"{reminder['id']}.1"
        assert event.data["text"] == "stand-up" and event.data["user_id"] == "ann"
        assert event.data["audience"] == {"users": ["ann"]}
        assert "channel_id" not in event.data
        async with replica(settings, keys) as (_, client):
            await asyncio.sleep(0.3)
            after = await client.get(f"/{reminder['id']}", headers=keys.header("ann"))
        assert fired.drain() == []
    assert after.json()["status"] == FIRED and after.json()["occurrence"] == 1


async def test_a_claim_lost_with_its_replica_is_taken_over_under_the_same_event_id(
    settings: Settings, keys: TestKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    tick_every(monkeypatch, 3600)
    async with replica(settings, keys) as (runtime, _), fired_events(settings) as fired:
        past = utcnow() - timedelta(minutes=5)
        [lost] = await add_reminders(
            runtime, 1, due=past, status=FIRING, claimed_at=utcnow() - 2 * firing.LEASE
        )
        [live] = await add_reminders(runtime, 1, due=past, status=FIRING, claimed_at=utcnow())
        assert await firing.fire_due(runtime) == 1
        [event] = fired.drain()
        assert event.data["reminder_id"] == lost and event.id == f"{lost}.1"
        assert await statuses(runtime) == {(FIRED, 1): 1, (FIRING, 0): 1}
        assert live != lost


async def test_a_repeating_reminder_goes_on_in_its_zone(settings: Settings, keys: TestKeys) -> None:
    async with replica(settings, keys) as (_, client), fired_events(settings) as fired:
        created = await client.post(
            "/",
            json={
                "text": "water the plants",
                "after_seconds": 1,
                "repeat": "daily",
                "timezone": "Asia/Kolkata",
            },
            headers=keys.header("ann"),
        )
        assert created.status_code == 201, created.text
        first = created.json()
        event = await fired.wait_for("reminder.fired", reminder_id=first["id"])
        assert event.data["repeat"] == "daily" and event.data["occurrence"] == 1
        await asyncio.sleep(0.1)
        now = (await client.get(f"/{first['id']}", headers=keys.header("ann"))).json()
    assert now["status"] == PENDING and now["occurrence"] == 1
    # Kolkata keeps no DST: the same local time tomorrow is exactly a day later.
    due = datetime.fromisoformat(now["due_at"])
    assert due - datetime.fromisoformat(first["due_at"]) == timedelta(days=1)
