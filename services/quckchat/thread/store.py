"""Rows of the thread service: race-safe inserts, counts recomputed from replies, views."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.core.sql import utcnow
from quckchat.message.events import MessageBody
from quckchat.thread.models import Follower, Reply, Thread
from quckchat.thread.schemas import ThreadPublic


async def refresh_counts(session: AsyncSession, thread: Thread) -> None:
    """Set the reply count and the last reply from the live replies."""
    in_thread = Reply.parent_id == thread.parent_id
    count = await session.scalar(select(func.count()).select_from(Reply).where(in_thread))
    last = await session.scalar(select(Reply).where(in_thread).order_by(Reply.seq.desc()).limit(1))
    thread.reply_count = int(count or 0)
    thread.last_reply_id = last.message_id if last else None
    thread.last_reply_at = last.created_at if last else None
    thread.last_seq = last.seq if last else thread.parent_seq
    await session.flush()


async def followers_of(session: AsyncSession, parent_id: str) -> list[str]:
    query = (
        select(Follower.user_id)
        .where(Follower.parent_id == parent_id, Follower.following.is_(True))
        .order_by(Follower.user_id)
    )
    return list((await session.scalars(query)).all())


async def mutes_of(session: AsyncSession, parent_id: str) -> dict[str, datetime | None]:
    """The followers muted now, each with the mute's end (None: until unmuted)."""
    now = utcnow()
    query = select(Follower).where(
        Follower.parent_id == parent_id,
        Follower.following.is_(True),
        Follower.muted.is_(True),
        or_(Follower.muted_until.is_(None), Follower.muted_until > now),
    )
    return {f.user_id: f.muted_until for f in (await session.scalars(query)).all()}


async def unread_count(session: AsyncSession, parent_id: str, after_seq: int) -> int:
    query = (
        select(func.count())
        .select_from(Reply)
        .where(Reply.parent_id == parent_id, Reply.seq > after_seq)
    )
    return int(await session.scalar(query) or 0)


def view(thread: Thread, follower: Follower | None, unread: int) -> ThreadPublic:
    """The thread as one user sees it; without a follower row they have nothing unread."""
    return ThreadPublic(
        parent_id=thread.parent_id,
        channel_id=thread.channel_id,
        workspace_id=thread.workspace_id,
        reply_count=thread.reply_count,
        last_reply_at=thread.last_reply_at,
        last_reply_id=thread.last_reply_id,
        last_seq=thread.last_seq,
        following=bool(follower and follower.following),
        last_read_seq=follower.last_read_seq if follower else thread.last_seq,
        unread=unread if follower else 0,
        muted=bool(follower and follower.muted_at(utcnow())),
        muted_until=follower.muted_until if follower and follower.muted_at(utcnow()) else None,
    )


def new_thread(
    parent: MessageBody | None,
    *,
    parent_id: str,
    channel_id: str,
    workspace_id: str,
    tenant: str | None,
) -> Thread:
    """A thread row for a parent message (as the message service answered it, if it did)."""
    seq = parent.seq if parent is not None else 0
    return Thread(
        parent_id=parent_id,
        channel_id=channel_id,
        workspace_id=workspace_id,
        tenant=tenant,
        parent_sender_id=parent.sender_id if parent is not None else None,
        parent_seq=seq,
        reply_count=0,
        last_seq=seq,
        activity_at=parent.created_at if parent is not None else utcnow(),
        created_at=utcnow(),
    )
