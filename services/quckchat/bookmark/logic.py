"""What the bookmark service does: saved messages per user, and channel header links."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.bookmark import events
from quckchat.bookmark.access import may_manage
from quckchat.bookmark.models import ChannelBookmark, SavedMessage
from quckchat.bookmark.schemas import (
    BookmarkCreate,
    BookmarkUpdate,
    ChannelBookmarkPublic,
    SavedPublic,
)
from quckchat.channel.client import Membership, membership
from quckchat.core.errors import Problem, conflict, forbidden, not_found
from quckchat.core.pagination import Page, PageQuery, parse_datetime, read_page
from quckchat.core.runtime import Runtime
from quckchat.core.sql import get_or_add
from quckchat.core.tokens import Principal
from quckchat.message.client import visible_message

MAX_CHANNEL_BOOKMARKS = 100


def saved_view(row: SavedMessage) -> SavedPublic:
    return SavedPublic(
        message_id=row.message_id,
        channel_id=row.channel_id,
        workspace_id=row.workspace_id,
        note=row.note,
        saved_at=row.created_at,
        updated_at=row.updated_at,
    )


def bookmark_view(row: ChannelBookmark) -> ChannelBookmarkPublic:
    return ChannelBookmarkPublic.model_validate(row, from_attributes=True)


# Saved messages


async def save(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    message_id: str,
    note: str | None,
    note_sent: bool,
) -> tuple[SavedPublic, bool]:
    """Save a message the caller can see (True), or change the note of a saved one (False)."""
    me = principal.user_id
    message, member = await visible_message(runtime, user_id=me, message_id=message_id)
    row, created = await get_or_add(
        session,
        SavedMessage,
        (me, message_id),
        lambda: SavedMessage(
            user_id=me,
            message_id=message_id,
            workspace_id=member.workspace_id,
            channel_id=message.channel_id,
            note=note or None,
        ),
    )
    if not created:
        if note_sent and row.note != (note or None):
            row.note = note or None
            await session.flush()
        return saved_view(row), False
    event = events.MessageSaved.about(row, actor=me)
    await runtime.emit(event, tenant=principal.tenant, session=session)
    return saved_view(row), True


async def unsave(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, message_id: str
) -> None:
    row = await session.get(SavedMessage, (principal.user_id, message_id))
    if row is None:
        raise not_found("saved message")
    await session.delete(row)
    await session.flush()
    event = events.MessageUnsaved.about(row, actor=principal.user_id)
    await runtime.emit(event, tenant=principal.tenant, session=session)


async def list_saved(
    session: AsyncSession,
    *,
    principal: Principal,
    workspace_id: str | None,
    paging: PageQuery,
) -> Page[SavedPublic]:
    """The caller's saved messages, newest first (of one workspace when named)."""
    query = select(SavedMessage).where(SavedMessage.user_id == principal.user_id)
    if workspace_id is not None:
        query = query.where(SavedMessage.workspace_id == workspace_id)
    rows, next_cursor = await read_page(
        session,
        cast(Select[Any], query),
        SavedMessage.created_at,
        SavedMessage.message_id,
        paging=paging,
        parse=parse_datetime,
    )
    return Page[SavedPublic](items=[saved_view(r) for r in rows], next_cursor=next_cursor)


# Channel bookmarks


async def list_channel(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, channel_id: str
) -> list[ChannelBookmarkPublic]:
    """A channel's header links, oldest first, for its members."""
    await membership(runtime, channel_id, principal.user_id)
    query = (
        select(ChannelBookmark)
        .where(ChannelBookmark.channel_id == channel_id)
        .order_by(ChannelBookmark.created_at, ChannelBookmark.id)
        .limit(MAX_CHANNEL_BOOKMARKS)
    )
    return [bookmark_view(row) for row in (await session.scalars(query)).all()]


async def add_to_channel(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    body: BookmarkCreate,
) -> ChannelBookmarkPublic:
    """Any member adds a link while the channel is active and has room for it."""
    member = await membership(runtime, channel_id, principal.user_id)
    _require_active(member)
    count = await session.scalar(
        select(func.count())
        .select_from(ChannelBookmark)
        .where(ChannelBookmark.channel_id == channel_id)
    )
    if int(count or 0) >= MAX_CHANNEL_BOOKMARKS:
        raise Problem(
            409,
            f"a channel has at most {MAX_CHANNEL_BOOKMARKS} bookmarks",
            slug="quota-exceeded",
            quota="channel_bookmarks",
        )
    row = ChannelBookmark(
        channel_id=channel_id,
        workspace_id=member.workspace_id,
        tenant=principal.tenant,
        title=body.title,
        url=str(body.url),
        emoji=body.emoji,
        created_by=principal.user_id,
    )
    session.add(row)
    await session.flush()
    await _announce(session, runtime, principal, events.BookmarkAdded, row)
    return bookmark_view(row)


async def _changeable(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    bookmark_id: str,
) -> tuple[ChannelBookmark, Membership]:
    """The bookmark, if the caller added it or manages the channel (404 outside it, else 403)."""
    member = await membership(runtime, channel_id, principal.user_id)
    row = await session.get(ChannelBookmark, bookmark_id)
    if row is None or row.channel_id != channel_id:
        raise not_found("bookmark")
    if row.created_by != principal.user_id and not await may_manage(runtime, member):
        raise forbidden("only its author or a channel admin changes a bookmark")
    return row, member


async def update_in_channel(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    bookmark_id: str,
    body: BookmarkUpdate,
) -> ChannelBookmarkPublic:
    row, member = await _changeable(
        session, runtime, principal=principal, channel_id=channel_id, bookmark_id=bookmark_id
    )
    _require_active(member)
    changed = False
    for name, value in body.changes().items():
        value = str(value) if name == "url" else value
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        await session.flush()
        await _announce(session, runtime, principal, events.BookmarkUpdated, row)
    return bookmark_view(row)


async def remove_from_channel(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    bookmark_id: str,
) -> None:
    row, _ = await _changeable(
        session, runtime, principal=principal, channel_id=channel_id, bookmark_id=bookmark_id
    )
    await session.delete(row)
    await session.flush()
    await _announce(session, runtime, principal, events.BookmarkRemoved, row)


def _require_active(member: Membership) -> None:
    if member.archived:
        raise conflict("the channel is archived", slug="channel-archived")


async def _announce(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    kind: type[events.ChannelBookmarkEvent],
    row: ChannelBookmark,
) -> None:
    """Record the change to the channel's links with it (its members see it after commit)."""
    event = kind.about(row, actor=principal.user_id)
    await runtime.emit(event, tenant=principal.tenant, session=session)
