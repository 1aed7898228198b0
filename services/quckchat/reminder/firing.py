"""Firing due reminders exactly once, with any number of replicas, across restarts.

Each replica reads the due reminders, then claims each with one conditional UPDATE (pending
and due -> firing): the database lets exactly one UPDATE change the row, and only the replica
whose UPDATE did fires it. Recording the firing and its `reminder.fired` event is one
transaction (the event goes through the outbox, published after commit), and it holds only
while the claim does: a replica that died before it leaves nothing behind, and the one that
takes over its stale claim (after LEASE) fires the occurrence. The event carries the id
`<reminder>.<occurrence>`, so consumers drop a republication as seen. Nothing is kept in
memory: a restarted service finds overdue reminders still pending and fires them once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel.client import membership
from quckchat.core import logging as qlog
from quckchat.core.errors import Problem
from quckchat.core.periodic import Periodic
from quckchat.core.runtime import Runtime
from quckchat.core.sql import Database, utcnow
from quckchat.reminder.events import ReminderFired
from quckchat.reminder.models import CANCELLED, FIRED, FIRING, PENDING, Reminder
from quckchat.reminder.schedule import next_occurrence

log = qlog.get("reminder.firing")

TICK_SECONDS = 1.0
LEASE = timedelta(seconds=60)  # a claim older than this was lost with its replica
BATCH = 100


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Reminder.status == PENDING, Reminder.due_at <= now),
        and_(Reminder.status == FIRING, Reminder.claimed_at <= now - LEASE),
    )


async def claim(db: Database, reminder_id: str, now: datetime) -> bool:
    """Take the reminder for this replica; True for exactly one of any racing replicas."""
    async with db.session() as session:
        result = await session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id, _due(now))
            .values(status=FIRING, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def _settle(
    session: AsyncSession, reminder_id: str, claimed_at: datetime, **values: Any
) -> bool:
    """Record the outcome, unless the claim was lost (taken over, or the user acted): False."""
    result = await session.execute(
        update(Reminder)
        .where(
            Reminder.id == reminder_id,
            Reminder.status == FIRING,
            Reminder.claimed_at == claimed_at,
        )
        .values(claimed_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def _give_back(db: Database, reminder_id: str, claimed_at: datetime, status: str) -> None:
    """End the claim without firing: pending (to try again) or cancelled."""
    async with db.session() as session:
        await _settle(session, reminder_id, claimed_at, status=status)


async def _may_still_post(runtime: Runtime, row: Reminder) -> bool:
    """A channel reminder fires only while its author may still post there."""
    if row.channel_id is None:
        return True
    try:
        (await membership(runtime, row.channel_id, row.user_id)).require_post()
    except Problem as problem:
        if problem.status in (403, 404, 409):
            return False
        raise
    return True


def _after_firing(row: Reminder, now: datetime) -> dict[str, Any]:
    """A one-off is fired; a series goes on at its next occurrence after now."""
    done: dict[str, Any] = {"occurrence": row.occurrence + 1, "fired_at": now}
    if row.repeat is None:
        return {**done, "status": FIRED}
    upcoming = next_occurrence(
        previous=row.scheduled_at,
        after=now,
        repeat=row.repeat,
        zone=ZoneInfo(row.timezone),
        wall=time.fromisoformat(row.wall_time),
    )
    return {**done, "status": PENDING, "scheduled_at": upcoming, "due_at": upcoming}


async def fire(runtime: Runtime, db: Database, reminder_id: str, claimed_at: datetime) -> bool:
    """Fire a reminder this replica claimed; True when it fired (its event goes out after)."""
    async with db.session() as session:
        row = await session.get(Reminder, reminder_id)
    if row is None:
        return False  # deleted since it was claimed
    try:
        allowed = await _may_still_post(runtime, row)
    except Problem:
        log.warning("reminder %s waits: the channel service did not answer", reminder_id)
        await _give_back(db, reminder_id, claimed_at, PENDING)
        return False
    if not allowed:
        await _give_back(db, reminder_id, claimed_at, CANCELLED)
        return False
    event = ReminderFired.about(row, occurrence=row.occurrence + 1)
    async with db.session() as session:
        # The firing and its event commit together, or neither does (a lost claim: neither).
        if not await _settle(session, reminder_id, claimed_at, **_after_firing(row, utcnow())):
            return False
        await runtime.emit(event, tenant=row.tenant, session=session, event_id=event.event_id)
    return True


async def _finish(firing: Coroutine[Any, Any, bool]) -> bool:
    """Run it to the end even when the service stops meanwhile: no claim is left behind."""
    task = asyncio.ensure_future(firing)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


async def fire_due(runtime: Runtime) -> int:
    """Claim and fire what is due now; how many this replica fired."""
    db = runtime.db
    if db is None:
        raise RuntimeError("the reminder service needs its database")
    fired = 0
    while True:
        now = utcnow()
        async with db.session() as session:
            query = select(Reminder.id).where(_due(now)).order_by(Reminder.due_at).limit(BATCH)
            due = list((await session.scalars(query)).all())
        claimed = 0
        for reminder_id in due:
            if await claim(db, reminder_id, now):
                claimed += 1
                fired += await _finish(fire(runtime, db, reminder_id, now))
        # A full batch may hide more; one this replica could not claim any of is someone's.
        if len(due) < BATCH or not claimed:
            return fired


FIRE_DUE = Periodic("fire due reminders", TICK_SECONDS, (fire_due,))
