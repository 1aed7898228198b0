"""Events the channel service follows: new messages (unread and mentions) and workspace changes.

Delivery is at least once: each effect commits with its `first_delivery` record, so a
redelivered event changes nothing.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel import access, events
from quckchat.channel.logic import drop_member
from quckchat.channel.models import Channel, ChannelMember, Pin, processed_events
from quckchat.core import logging as qlog
from quckchat.core.events import Event, first_delivery
from quckchat.core.outbox import announce
from quckchat.core.runtime import Runtime
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
    in_channel = ChannelMember.channel_id == channel_id
    await session.execute(
        update(ChannelMember)
        .where(in_channel, ChannelMember.user_id == sender, ChannelMember.last_read_seq < seq)
        .values(last_read_seq=seq)
    )
    if message.mention_channel:
        whom = in_channel
    elif message.mentions:
        whom = and_(in_channel, ChannelMember.user_id.in_(message.mentions))
    else:
        return True
    await session.execute(
        update(ChannelMember)
        .where(whom, ChannelMember.user_id != sender, ChannelMember.last_read_seq < seq)
        .values(mention_count=ChannelMember.mention_count + 1)
    )
    return True


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
