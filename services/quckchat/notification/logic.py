"""What the notification API does: keyword-only functions over a session and the runtime."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.core.errors import not_found
from quckchat.core.pagination import Page, PageQuery, parse_datetime, read_page
from quckchat.core.runtime import Runtime
from quckchat.core.sql import new_id, utcnow
from quckchat.core.tokens import Principal
from quckchat.notification.consumers import deliveries_for
from quckchat.notification.models import EMAIL, SMS, Attempt, Delivery, Notice
from quckchat.notification.schemas import (
    AttemptPublic,
    NotificationPublic,
    ReadResult,
    SendRequest,
    Sent,
    UnreadCounts,
)
from quckchat.notification.store import delivery_id, mark_read, store, unread_count


def view(row: Notice) -> NotificationPublic:
    return NotificationPublic.model_validate(row, from_attributes=True)


def _mine(principal: Principal) -> tuple[Any, ...]:
    return (Notice.user_id == principal.user_id, Notice.withdrawn.is_(False))


async def listed(
    session: AsyncSession, *, principal: Principal, unread: bool, paging: PageQuery
) -> Page[NotificationPublic]:
    """The caller's notices, newest first (only the unread ones when asked)."""
    query = select(Notice).where(*_mine(principal))
    if unread:
        query = query.where(Notice.read_at.is_(None))
    rows, next_cursor = await read_page(
        session,
        cast(Select[Any], query),
        Notice.created_at,
        Notice.id,
        paging=paging,
        parse=parse_datetime,
    )
    return Page[NotificationPublic](items=[view(r) for r in rows], next_cursor=next_cursor)


async def unread_counts(session: AsyncSession, *, principal: Principal) -> UnreadCounts:
    query = (
        select(Notice.collapse_key, func.count())
        .where(*_mine(principal), Notice.read_at.is_(None))
        .group_by(Notice.collapse_key)
    )
    counts = {key: int(n) for key, n in (await session.execute(query)).all()}
    return UnreadCounts(total=sum(counts.values()), by_collapse_key=counts)


async def read_one(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, notification_id: str
) -> NotificationPublic:
    """Mark one of the caller's notices read; someone else's is not found, as if none."""
    notice = await session.get(Notice, notification_id)
    if notice is None or notice.user_id != principal.user_id or notice.withdrawn:
        raise not_found("notification")
    await mark_read(
        session, runtime, user_id=principal.user_id, tenant=principal.tenant, notices=[notice]
    )
    return view(notice)


async def read_all(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, collapse_key: str | None
) -> ReadResult:
    """Mark all the caller's unread notices read, or all of one collapse key."""
    query = select(Notice).where(*_mine(principal), Notice.read_at.is_(None))
    if collapse_key is not None:
        query = query.where(Notice.collapse_key == collapse_key)
    notices = list((await session.scalars(query)).all())
    read = await mark_read(
        session, runtime, user_id=principal.user_id, tenant=principal.tenant, notices=notices
    )
    return ReadResult(read=read, unread=await unread_count(session, principal.user_id))


async def attempts(
    session: AsyncSession, *, principal: Principal, paging: PageQuery
) -> Page[AttemptPublic]:
    """Every try at delivering the caller's notices, newest first."""
    query = (
        select(Attempt, Delivery)
        .join(Delivery, Delivery.id == Attempt.delivery_id)
        .where(Attempt.user_id == principal.user_id)
    )
    rows, next_cursor = await read_page(
        session,
        cast(Select[Any], query),
        Attempt.at,
        Attempt.id,
        paging=paging,
        parse=parse_datetime,
    )
    items = [
        AttemptPublic(
            id=attempt.id,
            delivery_id=attempt.delivery_id,
            notification_id=delivery.notice_id,
            medium=delivery.medium,
            device_id=delivery.device_id,
            clear=delivery.clear,
            at=attempt.at,
            outcome=attempt.outcome,
            provider_status=attempt.provider_status,
            detail=attempt.detail,
            retry_after=attempt.retry_after,
        )
        for attempt, delivery in rows
    ]
    return Page[AttemptPublic](items=items, next_cursor=next_cursor)


def _notice(body: SendRequest, notice_id: str) -> Notice:
    return Notice(
        id=notice_id,
        tenant=body.tenant,
        user_id=body.user_id,
        reason=body.reason,
        title=body.title,
        body=body.body,
        collapse_key=body.collapse_key or notice_id,
        workspace_id=body.workspace_id,
        channel_id=body.channel_id,
        urgent=body.urgent,
        created_at=utcnow(),
    )


def _to_address(notice_id: str, medium: str, address: str) -> Delivery:
    return Delivery(
        id=delivery_id(notice_id, medium, address),
        notice_id=notice_id,
        medium=medium,
        address=address,
        due_at=utcnow(),
    )


async def send(session: AsyncSession, runtime: Runtime, *, body: SendRequest) -> Sent:
    """Store a notice for a user (their inbox, their devices) or one message to an address;
    a notice id sent before is not sent again."""
    notice_id = body.notice_id or new_id()
    if await session.get(Notice, notice_id) is not None:
        return Sent(notification_id=notice_id, stored=False)
    if body.user_id is not None:
        deliveries = await deliveries_for(
            runtime, notice_id=notice_id, user_id=body.user_id, media=body.media
        )
    elif body.email is not None:
        deliveries = [_to_address(notice_id, EMAIL, str(body.email))]
    else:
        deliveries = [_to_address(notice_id, SMS, str(body.phone))]
    stored = await store(session, runtime, _notice(body, notice_id), deliveries)
    return Sent(notification_id=notice_id, stored=stored)
