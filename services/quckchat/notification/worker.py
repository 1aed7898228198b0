"""Sending due deliveries exactly once across replicas, and recording every attempt.

Like the reminder service's firing: each replica reads what is due, then claims each delivery
with one conditional UPDATE (pending and due -> sending); only the replica whose UPDATE
changed the row sends it. A claim older than LEASE was lost with its replica and is taken
over. Just before a push goes out the notice is checked again: read (on any device) or
withdrawn meanwhile, it is dropped instead.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.core import logging as qlog
from quckchat.core.errors import Problem
from quckchat.core.periodic import Periodic, nudge
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from quckchat.core.sms import TextRefused, TextUnavailable
from quckchat.core.sql import Database, utcnow
from quckchat.notification import channels
from quckchat.notification.email import Email, MailRefused, MailUnavailable
from quckchat.notification.models import (
    DELIVERED,
    DROPPED,
    EMAIL,
    FAILED,
    GONE,
    PENDING,
    PUSH,
    SENDING,
    SMS,
    Attempt,
    Delivery,
    Notice,
)
from quckchat.notification.push.base import Outcome, Push, Result
from quckchat.notification.store import add_clear, is_stale
from quckchat.user.client import drop_push_token

log = qlog.get("notification.worker")

TICK_SECONDS = 1.0
LEASE = timedelta(seconds=60)
BATCH = 100
# Devices sent to at once: one at a time, each send's round trips to the database and the
# provider capped a replica at some 30 pushes a second.
CONCURRENCY = 16
DETAIL_LENGTH = 500
# What each outcome leaves the delivery as (RETRY: pending again, or failed when used up).
SETTLES = {Outcome.DELIVERED: DELIVERED, Outcome.GONE: GONE, Outcome.FAILED: FAILED}


class Sent(NamedTuple):
    claimed: int
    delivered: int


def _db(runtime: Runtime) -> Database:
    if runtime.db is None:
        raise RuntimeError("the notification service needs its database")
    return runtime.db


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Delivery.status == PENDING, Delivery.digest.is_(False), Delivery.due_at <= now),
        and_(Delivery.status == SENDING, Delivery.claimed_at <= now - LEASE),
    )


def backoff(settings: Settings, attempts: int, retry_after: float | None) -> float:
    """Seconds before the next try: doubling with jitter, capped, never before Retry-After."""
    ceiling = min(
        settings.notification_retry_max_seconds,
        settings.notification_retry_base_seconds * 2 ** max(attempts - 1, 0),
    )
    return max(random.uniform(ceiling / 2, ceiling), retry_after or 0.0)


async def claim(db: Database, delivery_id: str, now: datetime) -> bool:
    """Take the delivery for this replica; True for exactly one of any racing replicas."""
    async with db.session() as session:
        result = await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, _due(now))
            .values(status=SENDING, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def _settle(
    session: AsyncSession, delivery_id: str, claimed_at: datetime, **values: Any
) -> bool:
    """Record where the delivery stands, unless the claim was lost meanwhile: False."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == SENDING,
            Delivery.claimed_at == claimed_at,
        )
        .values(claimed_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _push_of(delivery: Delivery, notice: Notice) -> Push:
    data = {"notification_id": notice.id}
    for name in ("workspace_id", "channel_id", "thread_id", "message_id"):
        if (value := getattr(notice, name)) is not None:
            data[name] = value
    if delivery.clear:
        return Push(title="", body="", collapse_key=notice.collapse_key, data=data, clear=True)
    return Push(title=notice.title, body=notice.body, collapse_key=notice.collapse_key, data=data)


async def mail(runtime: Runtime, email: Email) -> Result:
    try:
        await channels.of(runtime).mail.send(email)
    except MailRefused as exc:
        return Result(Outcome.FAILED, detail=str(exc))
    except MailUnavailable as exc:
        return Result(Outcome.RETRY, detail=str(exc))
    return Result(Outcome.DELIVERED)


async def _text(runtime: Runtime, phone: str, text: str) -> Result:
    try:
        await channels.of(runtime).sms.send_text(phone=phone, text=text)
    except TextRefused as exc:
        return Result(Outcome.FAILED, detail=str(exc))
    except TextUnavailable as exc:
        return Result(Outcome.RETRY, detail=str(exc))
    return Result(Outcome.DELIVERED)


async def send(runtime: Runtime, delivery: Delivery, notice: Notice) -> Result:
    """Hand the delivery to its channel; every answer is a Result."""
    if delivery.medium == PUSH:
        sender = channels.of(runtime).push.get(delivery.platform or "")
        if sender is None or not delivery.token:
            return Result(Outcome.FAILED, detail=f"no sender for platform {delivery.platform}")
        return await sender.send(delivery.token, _push_of(delivery, notice))
    if delivery.medium == EMAIL and delivery.address:
        email = Email(
            to=delivery.address, subject=notice.title, text=notice.body, reference=delivery.id
        )
        return await mail(runtime, email)
    if delivery.medium == SMS and delivery.address:
        return await _text(runtime, delivery.address, f"{notice.title}\n{notice.body}".strip())
    return Result(Outcome.FAILED, detail=f"nothing to send a {delivery.medium} to")


def record(delivery: Delivery, result: Result, at: datetime) -> Attempt:
    return Attempt(
        delivery_id=delivery.id,
        user_id=delivery.user_id,
        at=at,
        outcome=result.outcome.value,
        provider_status=result.status,
        detail=result.detail[:DETAIL_LENGTH],
        retry_after=result.retry_after,
    )


def _again(settings: Settings, delivery: Delivery, notice: Notice, now: datetime) -> dict[str, Any]:
    """For a push of an urgent notice just shown: when to show it again while it stays unread
    (the next try drops it once read), or nothing when its repeats are used up."""
    if not notice.urgent or delivery.repeats >= settings.notification_urgent_repeats:
        return {}
    return {
        "status": PENDING,
        "attempts": 0,
        "repeats": delivery.repeats + 1,
        "due_at": now + timedelta(seconds=settings.notification_urgent_repeat_seconds),
    }


def _after(settings: Settings, delivery: Delivery, result: Result, now: datetime) -> dict[str, Any]:
    attempts = delivery.attempts + 1
    if result.outcome != Outcome.RETRY:
        return {"attempts": attempts, "status": SETTLES[result.outcome]}
    if attempts >= settings.notification_max_attempts:
        return {"attempts": attempts, "status": FAILED}
    wait = backoff(settings, attempts, result.retry_after)
    return {"attempts": attempts, "status": PENDING, "due_at": now + timedelta(seconds=wait)}


async def _still_wanted(session: AsyncSession, delivery: Delivery, notice: Notice) -> bool:
    """A clear always goes; anything else only while its notice is unread and not withdrawn."""
    if delivery.clear:
        return True
    return not (notice.withdrawn or notice.read_at is not None or await is_stale(session, notice))


async def _forget_token(runtime: Runtime, delivery: Delivery) -> None:
    if delivery.user_id is None or delivery.device_id is None or delivery.token is None:
        return
    try:
        await drop_push_token(runtime.http, delivery.user_id, delivery.device_id, delivery.token)
    except Problem as exc:
        # The next push to the dead token is GONE again and asks again.
        log.warning("device %s keeps its dead token for now: %s", delivery.device_id, exc)


async def deliver(runtime: Runtime, db: Database, delivery_id: str, claimed_at: datetime) -> bool:
    """Send a delivery this replica claimed, and record the attempt; True when delivered."""
    async with db.session() as session:
        delivery = await session.get(Delivery, delivery_id)
        notice = None if delivery is None else await session.get(Notice, delivery.notice_id)
        if delivery is None or notice is None:
            return False
        if delivery.medium == PUSH and not await _still_wanted(session, delivery, notice):
            await _settle(session, delivery_id, claimed_at, status=DROPPED)
            if delivery.repeats:  # an urgent push the device shows from before
                await add_clear(session, delivery)
            return False
    result = await send(runtime, delivery, notice)
    now = utcnow()
    async with db.session() as session:
        values = _after(runtime.settings, delivery, result, now)
        outdated = False  # shown, but read or withdrawn while it was on its way
        if result.outcome == Outcome.DELIVERED and delivery.medium == PUSH and not delivery.clear:
            fresh = await session.get(Notice, notice.id, populate_existing=True)
            outdated = fresh is not None and not await _still_wanted(session, delivery, fresh)
            if not outdated:
                values.update(_again(runtime.settings, delivery, notice, now))
        if not await _settle(session, delivery_id, claimed_at, **values):
            return False
        session.add(record(delivery, result, now))
        if outdated:
            await add_clear(session, delivery)
    if result.outcome == Outcome.GONE:
        await _forget_token(runtime, delivery)
    return result.outcome == Outcome.DELIVERED


async def _finish(sending: Coroutine[Any, Any, bool]) -> bool:
    """Run it to the end even when the service stops meanwhile: no claim is left behind."""
    task = asyncio.ensure_future(sending)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


async def _deliver_lane(runtime: Runtime, db: Database, lane: list[str], now: datetime) -> Sent:
    """Claim and send one device's (or address's) due deliveries in order: a later notice under
    the same collapse key must not arrive before an earlier one."""
    claimed = delivered = 0
    for delivery_id in lane:
        if await claim(db, delivery_id, now):
            claimed += 1
            delivered += await _finish(deliver(runtime, db, delivery_id, now))
    return Sent(claimed, delivered)


async def deliver_due(runtime: Runtime) -> int:
    """Claim and send what is due now, devices side by side; how many this replica delivered."""
    db = _db(runtime)
    delivered = 0
    bound = asyncio.Semaphore(CONCURRENCY)

    async def lane(ids: list[str], now: datetime) -> Sent:
        async with bound:
            return await _deliver_lane(runtime, db, ids, now)

    while True:
        now = utcnow()
        async with db.session() as session:
            query = (
                select(Delivery.id, Delivery.medium, Delivery.device_id, Delivery.address)
                .where(_due(now))
                .order_by(Delivery.due_at)
                .limit(BATCH)
            )
            due = (await session.execute(query)).all()
        lanes: dict[tuple[str, str | None, str | None], list[str]] = defaultdict(list)
        for delivery_id, medium, device_id, address in due:
            lanes[(medium, device_id, address)].append(delivery_id)
        sent = await asyncio.gather(*(lane(ids, now) for ids in lanes.values()))
        delivered += sum(s.delivered for s in sent)
        # A full batch may hide more; one this replica could not claim any of is someone's.
        if len(due) < BATCH or not any(s.claimed for s in sent):
            return delivered


DELIVER_DUE = Periodic("deliver due notices", TICK_SECONDS, (deliver_due,))


def wake(runtime: Runtime) -> None:
    """Deliveries were just committed: send them now rather than at the next tick."""
    nudge(runtime, DELIVER_DUE)
