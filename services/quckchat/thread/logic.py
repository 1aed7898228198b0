"""What the thread API does: keyword-only functions over a session and the runtime."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel.client import membership
from quckchat.core.errors import Problem, not_found
from quckchat.core.pagination import Page, PageQuery, parse_datetime, read_page
from quckchat.core.runtime import Runtime
from quckchat.core.sql import get_or_add
from quckchat.core.tokens import Principal
from quckchat.message.client import fetch_message
from quckchat.thread.events import ThreadRead
from quckchat.thread.models import Follower, Reply, Thread
from quckchat.thread.schemas import ThreadPublic
from quckchat.thread.store import new_thread, unread_count, view


async def _visible(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, parent_id: str
) -> Thread:
    """The thread, if the caller is a member of its channel; 404 otherwise, as if none."""
    thread = await session.get(Thread, parent_id)
    if thread is None:
        raise not_found("thread")
    await membership(runtime, thread.channel_id, principal.user_id)
    return thread


async def _unopened(runtime: Runtime, *, principal: Principal, parent_id: str) -> Thread:
    """A thread (not stored) for a top-level message the caller can see that has none yet."""
    parent = await fetch_message(runtime.http, parent_id)
    if parent is None:
        raise not_found("message")
    member = await membership(runtime, parent.channel_id, principal.user_id)
    if parent.parent_id is not None:
        raise Problem(422, "a reply has no thread of its own; use its parent", slug="not-a-parent")
    return new_thread(
        parent,
        parent_id=parent_id,
        channel_id=member.channel_id,
        workspace_id=member.workspace_id,
        tenant=principal.tenant,
    )


async def _open(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, parent_id: str
) -> Thread:
    """The thread of a message the caller can see, started now if it has no reply yet."""
    if await session.get(Thread, parent_id) is not None:
        return await _visible(session, runtime, principal=principal, parent_id=parent_id)
    unopened = await _unopened(runtime, principal=principal, parent_id=parent_id)
    thread, _ = await get_or_add(session, Thread, (parent_id,), lambda: unopened)
    return thread


async def _standing(
    session: AsyncSession, thread: Thread, user_id: str, *, following: bool
) -> Follower:
    """The user's follower row, made (caught up, following or not) if they have none."""
    follower, _ = await get_or_add(
        session,
        Follower,
        (thread.parent_id, user_id),
        lambda: Follower(
            parent_id=thread.parent_id,
            user_id=user_id,
            workspace_id=thread.workspace_id,
            channel_id=thread.channel_id,
            following=following,
            last_read_seq=thread.last_seq,
        ),
    )
    return follower


async def _view(session: AsyncSession, thread: Thread, follower: Follower | None) -> ThreadPublic:
    unread = (
        await unread_count(session, thread.parent_id, follower.last_read_seq) if follower else 0
    )
    return view(thread, follower, unread)


async def get_thread(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, parent_id: str
) -> ThreadPublic:
    """The thread of a message; one whose first reply this service has not heard of yet (its
    event is on the way) is shown as the message's thread so far, not as missing."""
    if await session.get(Thread, parent_id) is None:
        return view(await _unopened(runtime, principal=principal, parent_id=parent_id), None, 0)
    thread = await _visible(session, runtime, principal=principal, parent_id=parent_id)
    follower = await session.get(Follower, (parent_id, principal.user_id))
    return await _view(session, thread, follower)


async def follow(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, parent_id: str
) -> ThreadPublic:
    """Follow a thread (or a message that has no reply yet); following again changes nothing."""
    thread = await _open(session, runtime, principal=principal, parent_id=parent_id)
    follower = await _standing(session, thread, principal.user_id, following=True)
    follower.following = True
    await session.flush()
    return await _view(session, thread, follower)


async def unfollow(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, parent_id: str
) -> None:
    """Stop following; the row stays, so later replies do not make the author follow again."""
    thread = await _visible(session, runtime, principal=principal, parent_id=parent_id)
    follower = await _standing(session, thread, principal.user_id, following=False)
    follower.following = False
    await session.flush()


async def mute(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    parent_id: str,
    until: datetime | None,
) -> ThreadPublic:
    """Mute the thread's replies for the caller until `until` (None: until unmuted); muting
    again moves the end."""
    thread = await _open(session, runtime, principal=principal, parent_id=parent_id)
    # A row made here must not stop the parent's author from following at the first reply.
    author = principal.user_id == thread.parent_sender_id
    follower = await _standing(session, thread, principal.user_id, following=author)
    follower.muted, follower.muted_until = True, until
    await session.flush()
    return await _view(session, thread, follower)


async def unmute(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, parent_id: str
) -> None:
    """End the caller's mute of the thread at once; unmuting an unmuted thread changes nothing."""
    thread = await _visible(session, runtime, principal=principal, parent_id=parent_id)
    follower = await session.get(Follower, (thread.parent_id, principal.user_id))
    if follower is not None and follower.muted:
        follower.muted, follower.muted_until = False, None
        await session.flush()


async def mark_read(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, parent_id: str, seq: int
) -> ThreadPublic:
    """Move the caller's read pointer forward (never back, never past the last reply)."""
    thread = await _visible(session, runtime, principal=principal, parent_id=parent_id)
    follower = await _standing(session, thread, principal.user_id, following=False)
    target = min(seq, thread.last_seq)
    if target > follower.last_read_seq:
        follower.last_read_seq = target
        await session.flush()
        read = ThreadRead(
            workspace_id=thread.workspace_id,
            channel_id=thread.channel_id,
            parent_id=parent_id,
            user_id=principal.user_id,
            seq=target,
            actor=principal.user_id,
        )
        await runtime.emit(read, tenant=principal.tenant, session=session)
    return await _view(session, thread, follower)


async def followed(
    session: AsyncSession,
    *,
    principal: Principal,
    workspace_id: str,
    paging: PageQuery,
) -> Page[ThreadPublic]:
    """The threads the caller follows in a workspace, newest activity first, with unread."""
    unread = (
        select(func.count())
        .select_from(Reply)
        .where(Reply.parent_id == Thread.parent_id, Reply.seq > Follower.last_read_seq)
        .correlate(Thread, Follower)
        .scalar_subquery()
    )
    query = (
        select(Thread, Follower, unread)
        .join(Follower, Follower.parent_id == Thread.parent_id)
        .where(
            Follower.user_id == principal.user_id,
            Follower.workspace_id == workspace_id,
            Follower.following.is_(True),
        )
    )
    rows, next_cursor = await read_page(
        session,
        cast(Select[Any], query),
        Thread.activity_at,
        Thread.parent_id,
        paging=paging,
        parse=parse_datetime,
    )
    items = [view(thread, follower, int(count)) for thread, follower, count in rows]
    return Page[ThreadPublic](items=items, next_cursor=next_cursor)
