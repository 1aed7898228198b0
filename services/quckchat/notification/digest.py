"""Email digests: an email delivery marked digest waits, and each user gets one email at
their frequency holding what of it is still unread when it is sent (read or withdrawn
notices are dropped from it). One replica sends each digest: it claims the user's digest
state with a conditional UPDATE, as the delivery worker claims a delivery.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update

from quckchat.core import logging as qlog
from quckchat.core.errors import Problem
from quckchat.core.periodic import Periodic
from quckchat.core.runtime import Runtime
from quckchat.core.sql import Database, get_or_add, utcnow
from quckchat.notification.email import Email
from quckchat.notification.models import (
    DELIVERED,
    DROPPED,
    EMAIL,
    FAILED,
    PENDING,
    Delivery,
    DigestState,
    Notice,
)
from quckchat.notification.push.base import Outcome, Result
from quckchat.notification.store import is_stale
from quckchat.notification.worker import LEASE, mail, record
from quckchat.user.client import profile

log = qlog.get("notification.digest")

TICK_SECONDS = 30.0
# The user's setting, old (off/daily/weekly) and new (immediately/15min/hourly/...) alike.
PERIODS = {
    "immediately": timedelta(0),
    "instant": timedelta(0),
    "15min": timedelta(minutes=15),
    "15m": timedelta(minutes=15),
    "fifteen_minutes": timedelta(minutes=15),
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(days=7),
}
DEFAULT_PERIOD = PERIODS["daily"]
OFF = "off"


def period_of(settings: dict[str, Any] | None) -> timedelta | None:
    """How often the user wants a digest (None: never), from their profile's settings."""
    notifications = (settings or {}).get("notifications") or {}
    chosen = notifications.get("email_digest") if isinstance(notifications, dict) else None
    if isinstance(chosen, dict):  # a richer setting names its frequency
        chosen = chosen.get("frequency")
    if chosen == OFF:
        return None
    return PERIODS.get(str(chosen), DEFAULT_PERIOD)


def _waiting(user_id: str) -> ColumnElement[bool]:
    return and_(
        Delivery.user_id == user_id,
        Delivery.digest.is_(True),
        Delivery.status == PENDING,
        Delivery.medium == EMAIL,
    )


async def _claim(db: Database, user_id: str, now: datetime) -> bool:
    async with db.session() as session:
        await get_or_add(session, DigestState, (user_id,), lambda: DigestState(user_id=user_id))
    async with db.session() as session:
        result = await session.execute(
            update(DigestState)
            .where(
                DigestState.user_id == user_id,
                or_(DigestState.claimed_at.is_(None), DigestState.claimed_at <= now - LEASE),
            )
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def _drop_all(db: Database, user_id: str) -> None:
    async with db.session() as session:
        await session.execute(
            update(Delivery)
            .where(_waiting(user_id))
            .values(status=DROPPED)
            .execution_options(synchronize_session=False)
        )


def _compose(address: str, notices: list[Notice], reference: str) -> Email:
    lines = [f"- {notice.title}: {notice.body}" for notice in notices]
    subject = f"{len(notices)} unread notification{'s' if len(notices) != 1 else ''}"
    return Email(to=address, subject=subject, text="\n".join(lines), reference=reference)


async def send_digest(runtime: Runtime, db: Database, user_id: str, now: datetime) -> bool:
    """Send the user's digest if it is due and there is something unread; True when sent."""
    try:
        period = period_of(((await profile(runtime.http, user_id)) or {}).get("settings"))
    except Problem as exc:
        log.warning("digest for %s waits: the user service did not answer: %s", user_id, exc)
        return False
    if period is None:
        await _drop_all(db, user_id)
        return False
    async with db.session() as session:
        state = await session.get(DigestState, user_id)
        oldest = await session.scalar(
            select(func.min(Delivery.created_at)).where(_waiting(user_id))
        )
    since = state.last_sent_at if state and state.last_sent_at else oldest
    if since is None or since + period > now or not await _claim(db, user_id, now):
        return False
    sent = False
    try:
        sent = await _send_claimed(runtime, db, user_id, now)
    finally:
        async with db.session() as session:
            values: dict[str, Any] = {"claimed_at": None}
            if sent:
                values["last_sent_at"] = now
            await session.execute(
                update(DigestState).where(DigestState.user_id == user_id).values(**values)
            )
    return sent


async def _send_claimed(runtime: Runtime, db: Database, user_id: str, now: datetime) -> bool:
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Delivery, Notice)
                .join(Notice, Notice.id == Delivery.notice_id)
                .where(_waiting(user_id))
                .order_by(Notice.created_at)
            )
        ).all()
        unread = [
            (delivery, notice)
            for delivery, notice in rows
            if not notice.withdrawn
            and notice.read_at is None
            and not await is_stale(session, notice)
        ]
    kept = {delivery.id for delivery, _ in unread}
    gone = [delivery.id for delivery, _ in rows if delivery.id not in kept]
    result = None
    if unread:
        address = unread[0][0].address or ""
        reference = f"digest-{user_id}-{int(now.timestamp())}"
        result = await mail(runtime, _compose(address, [n for _, n in unread], reference))
    async with db.session() as session:
        if gone:
            await session.execute(
                update(Delivery).where(Delivery.id.in_(gone)).values(status=DROPPED)
            )
        if result is None:
            return False
        settled = _digest_status(result)
        for delivery, _ in unread:
            session.add(record(delivery, result, now))
            if settled is not None:
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery.id)
                    .values(status=settled, attempts=delivery.attempts + 1)
                )
    return result.outcome == Outcome.DELIVERED


def _digest_status(result: Result) -> str | None:
    """A refused digest fails its deliveries; one to retry leaves them for the next tick."""
    if result.outcome == Outcome.DELIVERED:
        return DELIVERED
    return None if result.outcome == Outcome.RETRY else FAILED


async def send_digests(runtime: Runtime) -> int:
    """Every user with a digest waiting whose time has come gets it; how many were sent."""
    db = runtime.db
    if db is None:
        raise RuntimeError("the notification service needs its database")
    now = utcnow()
    async with db.session() as session:
        waiting = select(Delivery.user_id).where(
            Delivery.digest.is_(True), Delivery.status == PENDING, Delivery.user_id.is_not(None)
        )
        users = sorted({u for u in (await session.scalars(waiting.distinct())).all() if u})
    sent = 0
    for user_id in users:
        sent += await send_digest(runtime, db, user_id, now)
    return sent


SEND_DIGESTS = Periodic("send email digests", TICK_SECONDS, (send_digests,))
