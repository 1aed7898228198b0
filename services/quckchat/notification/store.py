"""Notices and their deliveries, stored once however often a decision arrives, and read
marks that settle what was still to be pushed: the one place both consumers and routes use."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.core.runtime import Runtime
from quckchat.core.sql import get_or_add, utcnow
from quckchat.notification.events import NotificationCreated, NotificationRead
from quckchat.notification.models import (
    DELIVERED,
    DROPPED,
    PENDING,
    PUSH,
    Delivery,
    Notice,
    ReadPointer,
)


def delivery_id(notice_id: str, medium: str, target: str, *, clear: bool = False) -> str:
    """The same delivery whoever makes it, and however often: its key, hashed to fit."""
    key = f"{notice_id}\n{medium}\n{target}\n{'clear' if clear else 'show'}"
    return hashlib.sha256(key.encode()).hexdigest()


def scope_of(channel_id: str | None, thread_id: str | None) -> str | None:
    """Which read pointer covers a notice: its thread's, else its channel's."""
    return f"thread:{thread_id}" if thread_id else channel_id


async def is_stale(session: AsyncSession, notice: Notice) -> bool:
    """Whether the user has read past what the notice tells of (on any device)."""
    scope = scope_of(notice.channel_id, notice.thread_id)
    if notice.user_id is None or scope is None or notice.seq is None:
        return False
    pointer = await session.get(ReadPointer, (notice.user_id, scope))
    return pointer is not None and pointer.seq >= notice.seq


def _unread(user_id: str) -> tuple[ColumnElement[bool], ...]:
    return (Notice.user_id == user_id, Notice.read_at.is_(None), Notice.withdrawn.is_(False))


async def unread_count(session: AsyncSession, user_id: str) -> int:
    query = select(func.count()).select_from(Notice).where(*_unread(user_id))
    return int(await session.scalar(query) or 0)


async def store(
    session: AsyncSession, runtime: Runtime, notice: Notice, deliveries: Sequence[Delivery]
) -> bool:
    """Store the notice with its deliveries, and announce it to its user; False (nothing
    stored) when a notice of that id is there already."""
    _, created = await get_or_add(session, Notice, (notice.id,), lambda: notice)
    if not created:
        return False
    if await is_stale(session, notice):
        # Read elsewhere before it arrived: it is in the inbox, read, and sent nowhere.
        notice.read_at = utcnow()
        deliveries = ()
    session.add_all(deliveries)
    await session.flush()
    if notice.user_id is not None and notice.read_at is None:
        unread = await unread_count(session, notice.user_id)
        created_event = NotificationCreated.about(notice, user_id=notice.user_id, unread=unread)
        await runtime.emit(
            created_event, tenant=notice.tenant, session=session, event_id=f"{notice.id}.created"
        )
    return True


async def clear_shown(session: AsyncSession, notices: Sequence[Notice]) -> None:
    """What the notices would still push is dropped; devices that show one get a clear."""
    ids = [notice.id for notice in notices]
    if not ids:
        return
    await session.execute(
        update(Delivery)
        .where(
            Delivery.notice_id.in_(ids),
            Delivery.status == PENDING,
            Delivery.medium == PUSH,
            Delivery.clear.is_(False),
        )
        .values(status=DROPPED, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    shown = select(Delivery).where(
        Delivery.notice_id.in_(ids),
        # An urgent push waiting to be repeated was shown already.
        or_(Delivery.status == DELIVERED, Delivery.repeats > 0),
        Delivery.medium == PUSH,
        Delivery.clear.is_(False),
    )
    for delivered in (await session.scalars(shown)).all():
        await add_clear(session, delivered)


async def add_clear(session: AsyncSession, delivered: Delivery) -> None:
    """A clear push to the device that showed `delivered` (once, whoever asks)."""
    target = delivered.device_id or ""
    await get_or_add(
        session,
        Delivery,
        (delivery_id(delivered.notice_id, PUSH, target, clear=True),),
        lambda: Delivery(
            id=delivery_id(delivered.notice_id, PUSH, target, clear=True),
            notice_id=delivered.notice_id,
            user_id=delivered.user_id,
            medium=PUSH,
            device_id=delivered.device_id,
            platform=delivered.platform,
            token=delivered.token,
            clear=True,
            status=PENDING,
            due_at=utcnow(),
        ),
    )


async def mark_read(
    session: AsyncSession,
    runtime: Runtime,
    *,
    user_id: str,
    tenant: str | None,
    notices: Sequence[Notice],
    event_id: str | None = None,
) -> int:
    """Mark the notices read, settle their pushes, and tell the user's devices; how many."""
    fresh = [notice for notice in notices if notice.read_at is None]
    if not fresh:
        return 0
    now = utcnow()
    for notice in fresh:
        notice.read_at = now
    await session.flush()
    await clear_shown(session, fresh)
    read = NotificationRead(
        user_id=user_id,
        notification_ids=[notice.id for notice in fresh],
        unread=await unread_count(session, user_id),
    )
    await runtime.emit(read, tenant=tenant, session=session, event_id=event_id)
    return len(fresh)


async def move_pointer(
    session: AsyncSession,
    runtime: Runtime,
    *,
    user_id: str,
    tenant: str | None,
    channel_id: str,
    thread_id: str | None,
    seq: int,
) -> int:
    """The user read `channel_id` (or its thread) up to `seq`: keep the pointer (forward
    only) and mark what it covers read; how many notices that marked."""
    scope = scope_of(channel_id, thread_id)
    assert scope is not None
    pointer, _ = await get_or_add(
        session,
        ReadPointer,
        (user_id, scope),
        lambda: ReadPointer(user_id=user_id, scope=scope, seq=seq),
    )
    pointer.seq = max(pointer.seq, seq)
    where = [*_unread(user_id), Notice.channel_id == channel_id, Notice.seq <= pointer.seq]
    where.append(Notice.thread_id == thread_id if thread_id else Notice.thread_id.is_(None))
    covered = list((await session.scalars(select(Notice).where(*where))).all())
    return await mark_read(session, runtime, user_id=user_id, tenant=tenant, notices=covered)


async def withdraw(session: AsyncSession, runtime: Runtime, *, notice_id: str) -> bool:
    """What the notice told of is gone: out of the inbox, unsent, cleared where shown."""
    notice = await session.get(Notice, notice_id)
    if notice is None or notice.withdrawn:
        return False
    notice.withdrawn = True
    await session.execute(
        update(Delivery)
        .where(
            Delivery.notice_id == notice_id,
            Delivery.status == PENDING,
            Delivery.clear.is_(False),
        )
        .values(status=DROPPED, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    await clear_shown(session, [notice])
    if notice.user_id is not None:
        read = NotificationRead(
            user_id=notice.user_id,
            notification_ids=[notice.id],
            unread=await unread_count(session, notice.user_id),
        )
        await runtime.emit(
            read, tenant=notice.tenant, session=session, event_id=f"{notice.id}.withdrawn"
        )
    return True
