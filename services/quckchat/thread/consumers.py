"""Message and channel events: replies make and change threads, departures end follows.

Delivery is at least once: each effect commits with its `first_delivery` record, so a
redelivered event changes nothing. Counts are recomputed from the stored replies, never
incremented. `thread.updated` is recorded in the same transaction as the change it announces
(the outbox publishes it after the commit, never what rolled back), under an id derived from
the event's; a redelivery changes nothing and so announces nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel.client import members_among
from quckchat.channel.events import DEPARTURES, ChannelDeleted
from quckchat.core import logging as qlog
from quckchat.core.events import Event, first_delivery
from quckchat.core.runtime import Runtime
from quckchat.core.sql import get_or_add
from quckchat.core.values import ID_PATTERN
from quckchat.message.client import fetch_message
from quckchat.message.events import GONE, MessageCreated, MessageDeleted, MessageExpired
from quckchat.thread.events import ThreadUpdated
from quckchat.thread.models import Follower, Reply, Thread, processed_events
from quckchat.thread.store import followers_of, mutes_of, new_thread, refresh_counts

log = qlog.get("thread.consumers")
_ID = re.compile(ID_PATTERN)
# A reply naming more people follows the first ones only: each costs a membership check.
MAX_MENTION_FOLLOWS = 50
# The channel events this service follows, by type.
LEAVING = {kind.type: kind for kind in DEPARTURES}
CHANNEL_EVENTS = frozenset({*LEAVING, ChannelDeleted.type})


@dataclass(frozen=True)
class ReplyFields:
    message_id: str
    parent_id: str
    channel_id: str
    workspace_id: str
    seq: int
    sender_id: str
    mentions: tuple[str, ...]
    created_at: datetime


def _id(value: Any) -> str | None:
    return value if isinstance(value, str) and _ID.match(value) else None


def reply_fields(event: Event) -> ReplyFields | None:
    """The reply a message.created event announces; None for a top-level or unusable one."""
    created = MessageCreated.parse(event)
    if created is None or (message := created.message).parent_id is None:
        return None
    return ReplyFields(
        message_id=message.id,
        parent_id=message.parent_id,
        channel_id=message.channel_id,
        workspace_id=message.workspace_id,
        seq=message.seq,
        sender_id=message.sender_id,
        mentions=tuple(dict.fromkeys(m for m in message.mentions if _id(m))),
        created_at=message.created_at,
    )


def removal(event: Event) -> MessageDeleted | MessageExpired | None:
    """The message.deleted or message.expired event as its type; None for another type or an
    unusable one."""
    kind = GONE.get(event.type)
    return None if kind is None else kind.parse(event)


async def _open(
    session: AsyncSession, runtime: Runtime, reply: ReplyFields, tenant: str | None
) -> Thread:
    found = await session.get(Thread, reply.parent_id)
    if found is not None:
        return found
    parent = await fetch_message(runtime.http, reply.parent_id)
    thread, _ = await get_or_add(
        session,
        Thread,
        (reply.parent_id,),
        lambda: new_thread(
            parent,
            parent_id=reply.parent_id,
            channel_id=reply.channel_id,
            workspace_id=reply.workspace_id,
            tenant=tenant,
        ),
    )
    return thread


async def _follow(session: AsyncSession, thread: Thread, user_id: str, *, read_to: int) -> Follower:
    follower, created = await get_or_add(
        session,
        Follower,
        (thread.parent_id, user_id),
        lambda: Follower(
            parent_id=thread.parent_id,
            user_id=user_id,
            workspace_id=thread.workspace_id,
            channel_id=thread.channel_id,
            following=True,
            last_read_seq=read_to,
        ),
    )
    if not created:
        follower.following = True
    return follower


async def _follow_replier(session: AsyncSession, thread: Thread, reply: ReplyFields) -> None:
    """The sender follows (again, even after unfollowing) and has read up to their reply."""
    follower = await _follow(session, thread, reply.sender_id, read_to=reply.seq)
    follower.last_read_seq = max(follower.last_read_seq, reply.seq)


async def _follow_invited(
    session: AsyncSession, runtime: Runtime, thread: Thread, reply: ReplyFields, start: int
) -> None:
    """Mentioned members follow; the parent's author too unless they chose not to."""
    author = thread.parent_sender_id
    candidates = set(reply.mentions[:MAX_MENTION_FOLLOWS]) | ({author} if author else set())
    candidates.discard(reply.sender_id)
    if not candidates:
        return
    query = select(Follower).where(
        Follower.parent_id == thread.parent_id, Follower.user_id.in_(candidates)
    )
    rows = {f.user_id: f for f in (await session.scalars(query)).all()}
    wanted = {
        u
        for u in reply.mentions
        if u in candidates and not getattr(rows.get(u), "following", False)
    }
    if author in candidates and author not in rows:
        wanted.add(author)
    for user in sorted(await members_among(runtime, thread.channel_id, wanted)):
        read_to = thread.parent_seq if user == author else start
        await _follow(session, thread, user, read_to=read_to)


async def announce(
    session: AsyncSession, runtime: Runtime, *, parent_id: str, event: Event, actor: str
) -> None:
    """Tell the followers the thread's state now, with the change (an id derived from the
    event's)."""
    thread = await session.get(Thread, parent_id)
    if thread is None:
        return
    followers = await followers_of(session, parent_id)
    muted = await mutes_of(session, parent_id)
    updated = ThreadUpdated.about(thread, followers, actor=actor, muted=muted)
    await runtime.emit(
        updated, tenant=thread.tenant, session=session, event_id=f"{event.id}.thread"
    )


async def apply_reply_created(
    session: AsyncSession, runtime: Runtime, *, event: Event, reply: ReplyFields
) -> bool:
    """Count the reply, update the followers, announce the thread; False if seen before."""
    if not await first_delivery(session, processed_events, event):
        return False
    thread = await _open(session, runtime, reply, event.tenant)
    before = thread.last_seq
    if await session.get(Reply, reply.message_id) is None:
        session.add(
            Reply(
                message_id=reply.message_id,
                parent_id=reply.parent_id,
                seq=reply.seq,
                sender_id=reply.sender_id,
                created_at=reply.created_at,
            )
        )
    await refresh_counts(session, thread)
    thread.activity_at = max(thread.activity_at, reply.created_at)
    await _follow_replier(session, thread, reply)
    await _follow_invited(session, runtime, thread, reply, start=before)
    await session.flush()
    await announce(session, runtime, parent_id=reply.parent_id, event=event, actor=reply.sender_id)
    return True


async def apply_reply_removed(
    session: AsyncSession,
    runtime: Runtime,
    *,
    event: Event,
    removed: MessageDeleted | MessageExpired,
) -> bool:
    """A reply deleted or expired: recount and announce the thread; False when it was no known
    reply, or seen before."""
    reply = await session.get(Reply, removed.message_id)
    if reply is None or not await first_delivery(session, processed_events, event):
        return False
    await session.delete(reply)
    await session.flush()
    thread = await session.get(Thread, reply.parent_id)
    if thread is not None:
        await refresh_counts(session, thread)
    await announce(session, runtime, parent_id=reply.parent_id, event=event, actor=removed.actor)
    return True


def _channel_change(event: Event) -> tuple[str, str | None] | None:
    """The channel, and the member who left it (None: the channel was deleted); None for an
    event of another type or an unusable one."""
    if (leaving := LEAVING.get(event.type)) is not None:
        left = leaving.parse(event)
        return None if left is None else (left.channel_id, left.user_id)
    deleted = ChannelDeleted.parse(event) if event.type == ChannelDeleted.type else None
    return None if deleted is None else (deleted.channel_id, None)


async def apply_channel_event(session: AsyncSession, *, event: Event) -> bool:
    """A member who left stops following the channel's threads; a deleted channel's go."""
    if event.type not in CHANNEL_EVENTS or (change := _channel_change(event)) is None:
        return False
    channel_id, user_id = change
    if not await first_delivery(session, processed_events, event):
        return False
    if user_id is not None:
        await session.execute(
            delete(Follower).where(Follower.channel_id == channel_id, Follower.user_id == user_id)
        )
        return True
    threads = select(Thread.parent_id).where(Thread.channel_id == channel_id)
    await session.execute(delete(Reply).where(Reply.parent_id.in_(threads)))
    await session.execute(delete(Follower).where(Follower.channel_id == channel_id))
    await session.execute(delete(Thread).where(Thread.channel_id == channel_id))
    return True


async def on_event(runtime: Runtime, event: Event) -> None:
    """Consumer of the message and channel topics."""
    db = runtime.db
    if db is None:
        raise RuntimeError("the thread service needs its database")
    if event.type in CHANNEL_EVENTS:
        async with db.session() as session:
            await apply_channel_event(session, event=event)
    elif event.type == MessageCreated.type and (reply := reply_fields(event)) is not None:
        async with db.session() as session:
            await apply_reply_created(session, runtime, event=event, reply=reply)
    elif (removed := removal(event)) is not None:
        async with db.session() as session:
            await apply_reply_removed(session, runtime, event=event, removed=removed)
