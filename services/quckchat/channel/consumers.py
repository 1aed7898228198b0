"""Events the channel service follows: new messages (unread and mentions) and workspace changes.

Delivery is at least once: each effect commits with its `first_delivery` record, so a
redelivered event changes nothing. New messages come in batches (`on_events`): a fetched run of
them is applied in one transaction with one statement per kind of change.
"""

from __future__ import annotations

from functools import partial
from typing import cast

from sqlalchemy import Table, and_, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel import access, events
from quckchat.channel.logic import drop_member
from quckchat.channel.models import Channel, ChannelMember, Pin, processed_events
from quckchat.core import logging as qlog
from quckchat.core.events import Event, first_delivery, in_runs
from quckchat.core.outbox import announce
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.message.events import MessageCreated
from quckchat.workspace.events import MemberRemoved, WorkspaceDeleted

log = qlog.get("channel.consumers")


async def apply_message_created(session: AsyncSession, *, event: Event) -> bool:
    """Raise the channel's last seq, the sender's read pointer and the mentioned members' counts.

    False when the event is unusable, about an unknown channel, or was applied before.
    """
    created = MessageCreated.parse(event)
    if created is None or await session.get(Channel, created.channel_id) is None:
        return False
    if not await first_delivery(session, processed_events, event):
        return False
    channel_id, seq, message = created.channel_id, created.seq, created.message
    # Events of one channel arrive in order, but a redelivery may bring an older one back.
    await session.execute(
        update(Channel)
        .where(Channel.id == channel_id, Channel.last_seq < seq)
        .values(last_seq=seq, last_message_at=message.created_at)
    )
    sender = message.sender_id
    await session.execute(
        update(ChannelMember)
        .where(
            ChannelMember.channel_id == channel_id,
            ChannelMember.user_id == sender,
            ChannelMember.last_read_seq < seq,
        )
        .values(last_read_seq=seq)
    )
    await _count_mentions(session, created)
    return True


async def _count_mentions(session: AsyncSession, created: MessageCreated) -> None:
    """One more mention for each member the message names who has not read that far."""
    message, seq = created.message, created.seq
    in_channel = ChannelMember.channel_id == created.channel_id
    if message.mention_channel:
        whom = in_channel
    elif message.mentions:
        whom = and_(in_channel, ChannelMember.user_id.in_(message.mentions))
    else:
        return
    await session.execute(
        update(ChannelMember)
        .where(whom, ChannelMember.user_id != message.sender_id, ChannelMember.last_read_seq < seq)
        .values(mention_count=ChannelMember.mention_count + 1)
    )


_channel_table = cast(Table, Channel.__table__)
_member_table = cast(Table, ChannelMember.__table__)
_channels, _members = _channel_table.c, _member_table.c
# One statement each, executed for many rows: a channel's newest message, a sender's pointer.
_RAISE_LAST_SEQ = (
    update(_channel_table)
    .where(_channels.id == bindparam("b_channel"), _channels.last_seq < bindparam("b_seq"))
    .values(last_seq=bindparam("b_seq"), last_message_at=bindparam("b_at"))
)
_RAISE_READ_SEQ = (
    update(_member_table)
    .where(
        _members.channel_id == bindparam("b_channel"),
        _members.user_id == bindparam("b_user"),
        _members.last_read_seq < bindparam("b_seq"),
    )
    .values(last_read_seq=bindparam("b_seq"))
)


async def apply_messages_created(session: AsyncSession, events: list[Event]) -> int:
    """`apply_message_created` for many events at once, with the same outcome; how many were
    applied (the rest unusable, about unknown channels, or applied before)."""
    parsed: dict[str, MessageCreated] = {}
    for event in events:
        if (created := MessageCreated.parse(event)) is not None:
            parsed.setdefault(event.id, created)
    if not parsed:
        return 0
    done = processed_events.c.event_id
    seen = set(await session.scalars(select(done).where(done.in_(list(parsed)))))
    channel_ids = {c.channel_id for c in parsed.values()}
    known = set(await session.scalars(select(Channel.id).where(Channel.id.in_(channel_ids))))
    fresh = {i: c for i, c in parsed.items() if i not in seen and c.channel_id in known}
    if not fresh:
        return 0
    now = utcnow()
    await session.execute(
        insert(processed_events), [{"event_id": i, "processed_at": now} for i in fresh]
    )
    # Mentions first, in order, against the read pointers as they were: as one event at a time.
    for created in fresh.values():
        await _count_mentions(session, created)
    newest: dict[str, MessageCreated] = {}
    read: dict[tuple[str, str], int] = {}
    for created in fresh.values():
        if created.channel_id not in newest or created.seq > newest[created.channel_id].seq:
            newest[created.channel_id] = created
        reader = (created.channel_id, created.message.sender_id)
        read[reader] = max(read.get(reader, 0), created.seq)
    await session.execute(
        _RAISE_LAST_SEQ,
        [
            {"b_channel": c.channel_id, "b_seq": c.seq, "b_at": c.message.created_at}
            for c in newest.values()
        ],
    )
    await session.execute(
        _RAISE_READ_SEQ,
        [{"b_channel": c, "b_user": u, "b_seq": seq} for (c, u), seq in read.items()],
    )
    return len(fresh)


async def _forget_member(
    session: AsyncSession, runtime: Runtime, *, workspace_id: str, user_id: str, actor: str | None
) -> None:
    """A user left the workspace: they leave its channels too (their roles went with theirs)."""
    query = (
        select(Channel, ChannelMember)
        .join(ChannelMember, ChannelMember.channel_id == Channel.id)
        .where(ChannelMember.workspace_id == workspace_id, ChannelMember.user_id == user_id)
    )
    for channel, member in (await session.execute(query)).all():
        await drop_member(session, channel, member)
        await access.revoke(runtime, channel, user_id=user_id, actor=actor)
        await announce(
            session, runtime, events.MemberRemoved, channel, actor=actor, user_id=user_id
        )


async def _forget_workspace(
    session: AsyncSession, runtime: Runtime, *, workspace_id: str, actor: str | None
) -> None:
    """A deleted workspace takes its channels, their members and pins with it."""
    channels = list(
        (await session.scalars(select(Channel).where(Channel.workspace_id == workspace_id))).all()
    )
    ids = [c.id for c in channels]
    if not ids:
        return
    await session.execute(delete(Pin).where(Pin.channel_id.in_(ids)))
    await session.execute(delete(ChannelMember).where(ChannelMember.channel_id.in_(ids)))
    await session.execute(delete(Channel).where(Channel.id.in_(ids)))
    for channel in channels:
        await announce(session, runtime, events.ChannelDeleted, channel, actor=actor)


async def apply_workspace_event(session: AsyncSession, runtime: Runtime, *, event: Event) -> bool:
    """Follow a member's removal or the workspace's deletion; False if ignored or seen before."""
    if event.type == MemberRemoved.type and (removed := MemberRemoved.parse(event)) is not None:
        if not await first_delivery(session, processed_events, event):
            return False
        await _forget_member(
            session,
            runtime,
            workspace_id=removed.workspace_id,
            user_id=removed.user_id,
            actor=removed.actor,
        )
        return True
    if event.type == WorkspaceDeleted.type and (deleted := WorkspaceDeleted.parse(event)):
        if not await first_delivery(session, processed_events, event):
            return False
        await _forget_workspace(
            session, runtime, workspace_id=deleted.workspace_id, actor=deleted.actor
        )
        return True
    return False


async def on_event(runtime: Runtime, event: Event) -> None:
    """Consumer of the message and workspace topics; each event's effect commits with its record."""
    if runtime.db is None:
        raise RuntimeError("the channel service needs its database")
    async with runtime.db.session() as session:
        if event.type == MessageCreated.type:
            await apply_message_created(session, event=event)
        elif event.type in (MemberRemoved.type, WorkspaceDeleted.type):
            await apply_workspace_event(session, runtime, event=event)


async def on_events(runtime: Runtime, events: list[Event]) -> None:
    """The batch form of `on_event`: each run of new messages in one transaction, anything else
    one event at a time, in the order fetched."""
    db = runtime.db
    if db is None:
        raise RuntimeError("the channel service needs its database")

    async def created(run: list[Event]) -> None:
        async with db.session() as session:
            await apply_messages_created(session, run)

    await in_runs(events, {MessageCreated.type}, created, partial(on_event, runtime))
