"""Pinned messages: any member pins; in announcement-only channels, only channel admins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel import access, events
from quckchat.channel.logic import reread
from quckchat.channel.models import Channel, Pin
from quckchat.channel.schemas import PinPublic
from quckchat.core.errors import conflict, not_found
from quckchat.core.outbox import announce
from quckchat.core.pagination import Page, PageQuery, parse_datetime, read_page
from quckchat.core.runtime import Runtime
from quckchat.core.sql import is_unique_violation, utcnow
from quckchat.core.tokens import Principal

MAX_PINS = 100


def pin_view(pin: Pin) -> PinPublic:
    return PinPublic.model_validate(pin, from_attributes=True)


async def _may_pin(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, channel_id: str
) -> Channel:
    me = principal.user_id
    channel, member = await access.visible(session, runtime, channel_id=channel_id, user_id=me)
    member = access.require_member(member)
    if channel.announcement_only:
        await access.require_manage(runtime, channel, member, me)
    access.require_active(channel)
    return channel


async def list_pins(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    paging: PageQuery,
) -> Page[PinPublic]:
    """The channel's pins, newest first."""
    await access.visible(session, runtime, channel_id=channel_id, user_id=principal.user_id)
    query: Select[Any] = select(Pin).where(Pin.channel_id == channel_id)
    rows, next_cursor = await read_page(
        session,
        query,
        Pin.pinned_at,
        Pin.message_id,
        paging=paging,
        parse=parse_datetime,
    )
    return Page[PinPublic](items=[pin_view(p) for p in rows], next_cursor=next_cursor)


async def get_pin(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    message_id: str,
) -> PinPublic:
    await access.visible(session, runtime, channel_id=channel_id, user_id=principal.user_id)
    pin = await session.get(Pin, (channel_id, message_id))
    if pin is None:
        raise not_found("pin")
    return pin_view(pin)


async def pin(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    message_id: str,
) -> tuple[PinPublic, bool]:
    """Pin a message (201); pinned already: 200. The message service owns the message itself."""
    channel = await _may_pin(session, runtime, principal=principal, channel_id=channel_id)
    existing = await session.get(Pin, (channel.id, message_id))
    if existing is not None:
        return pin_view(existing), False
    count = await session.scalar(
        select(func.count()).select_from(Pin).where(Pin.channel_id == channel.id)
    )
    if (count or 0) >= MAX_PINS:
        raise conflict(f"a channel holds at most {MAX_PINS} pins", slug="too-many-pins")
    row = Pin(
        channel_id=channel.id,
        message_id=message_id,
        pinned_by=principal.user_id,
        pinned_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        query = select(Pin).where(Pin.channel_id == channel.id, Pin.message_id == message_id)
        return pin_view(await reread(session, query)), False
    await announce(
        session,
        runtime,
        events.MessagePinned,
        channel,
        actor=principal.user_id,
        message_id=message_id,
    )
    return pin_view(row), True


async def unpin(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    message_id: str,
) -> None:
    channel = await _may_pin(session, runtime, principal=principal, channel_id=channel_id)
    row = await session.get(Pin, (channel.id, message_id))
    if row is None:
        raise not_found("pin")
    await session.delete(row)
    await session.flush()
    await announce(
        session,
        runtime,
        events.MessageUnpinned,
        channel,
        actor=principal.user_id,
        message_id=message_id,
    )
