"""What other services ask of the channel service: defaults, memberships, channel id lists."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel import access, events
from quckchat.channel.logic import add_member, insert_channel, reread, view
from quckchat.channel.members import insert_member
from quckchat.channel.models import CHANNEL_ADMIN, PUBLIC, Channel, ChannelMember
from quckchat.channel.schemas import (
    ChannelPublic,
    InternalChannelCreate,
    MembershipInternal,
    NotifyMember,
    NotifyView,
)
from quckchat.core.errors import not_found
from quckchat.core.outbox import announce
from quckchat.core.runtime import Runtime


async def create(
    session: AsyncSession, runtime: Runtime, *, body: InternalChannelCreate
) -> tuple[ChannelPublic, bool]:
    """Open a named channel, its creator its admin; one that exists by that name is returned."""
    query = select(Channel).where(
        Channel.workspace_id == body.workspace_id, Channel.name == body.name
    )
    found = await session.scalar(query)
    if found is not None:
        return view(found), False
    channel = Channel(
        workspace_id=body.workspace_id,
        tenant=body.tenant,
        kind=body.kind,
        name=body.name,
        is_default=body.default,
        announcement_only=False,
        member_count=0,
        created_by=body.created_by,
        last_seq=0,
    )
    if not await insert_channel(session, channel):
        found = await reread(session, query)
        return view(found), False
    actor = body.created_by
    await announce(session, runtime, events.ChannelCreated, channel, actor=actor, name=channel.name)
    await add_member(session, runtime, channel, user_id=actor, role=CHANNEL_ADMIN, actor=actor)
    return view(channel), True


async def add_to_defaults(
    session: AsyncSession, runtime: Runtime, *, workspace_id: str, user_id: str
) -> list[str]:
    """Put the user in every unarchived default channel of the workspace; their ids."""
    query = select(Channel).where(
        Channel.workspace_id == workspace_id,
        Channel.is_default.is_(True),
        Channel.archived_at.is_(None),
    )
    channels = list((await session.scalars(query.order_by(Channel.id))).all())
    for channel in channels:
        if await session.get(ChannelMember, (channel.id, user_id)) is None:
            await insert_member(session, runtime, channel, user_id=user_id, actor=user_id)
    return [c.id for c in channels]


async def membership(session: AsyncSession, *, channel_id: str, user_id: str) -> MembershipInternal:
    member = await session.get(ChannelMember, (channel_id, user_id))
    channel = await session.get(Channel, channel_id) if member is not None else None
    if member is None or channel is None:
        raise not_found("membership")
    return MembershipInternal(
        channel_id=channel.id,
        workspace_id=channel.workspace_id,
        user_id=user_id,
        kind=channel.kind,
        role=member.role,
        archived=channel.archived_at is not None,
        announcement_only=channel.announcement_only,
        disappearing_seconds=channel.disappearing_seconds,
    )


async def notify_view(session: AsyncSession, *, channel_id: str) -> NotifyView:
    """The channel's kind and every member's mute, for the notification orchestrator."""
    found = await session.get(Channel, channel_id)
    if found is None:
        raise not_found("channel")
    query = (
        select(ChannelMember)
        .where(ChannelMember.channel_id == channel_id)
        .order_by(ChannelMember.user_id)
    )
    members = [
        NotifyMember(
            user_id=m.user_id,
            muted=m.muted,
            muted_until=m.muted_until if m.muted else None,
            level=m.notify_level,
            ignore_channel_mentions=m.ignore_channel_mentions,
        )
        for m in (await session.scalars(query)).all()
    ]
    return NotifyView(
        channel_id=found.id,
        workspace_id=found.workspace_id,
        kind=found.kind,
        name=found.name,
        members=members,
    )


async def channel(session: AsyncSession, *, channel_id: str) -> ChannelPublic:
    found = await session.get(Channel, channel_id)
    if found is None:
        raise not_found("channel")
    return view(found)


async def member_ids(session: AsyncSession, *, channel_id: str) -> list[str]:
    if await session.get(Channel, channel_id) is None:
        raise not_found("channel")
    query = (
        select(ChannelMember.user_id)
        .where(ChannelMember.channel_id == channel_id)
        .order_by(ChannelMember.user_id)
    )
    return list((await session.scalars(query)).all())


async def user_channels(session: AsyncSession, *, user_id: str) -> list[str]:
    query = (
        select(ChannelMember.channel_id)
        .where(ChannelMember.user_id == user_id)
        .order_by(ChannelMember.channel_id)
    )
    return list((await session.scalars(query)).all())


async def readable_channels(
    session: AsyncSession, runtime: Runtime, *, user_id: str, workspace_id: str
) -> list[str]:
    """The channels of the workspace the user may read: theirs, and (unless a guest) public ones."""
    mine = select(ChannelMember.channel_id).where(
        ChannelMember.user_id == user_id, ChannelMember.workspace_id == workspace_id
    )
    ids = set((await session.scalars(mine)).all())
    role = await access.workspace_role(runtime, workspace_id=workspace_id, user_id=user_id)
    if role in access.FULL_MEMBER_ROLES:
        public = select(Channel.id).where(
            Channel.workspace_id == workspace_id, Channel.kind == PUBLIC
        )
        ids.update((await session.scalars(public)).all())
    return sorted(ids)


async def workspace_channels(session: AsyncSession, *, workspace_id: str) -> list[ChannelPublic]:
    """Every channel of the workspace with its member count (for the workspace's export)."""
    query = (
        select(Channel)
        .where(Channel.workspace_id == workspace_id)
        .order_by(Channel.created_at, Channel.id)
    )
    return [view(c) for c in (await session.scalars(query)).all()]
