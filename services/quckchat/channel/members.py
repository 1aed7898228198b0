"""Membership: join, leave, add, remove, roles, the read pointer and muting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel import access, events
from quckchat.channel.logic import add_member, drop_member, reread, view
from quckchat.channel.models import (
    CHANNEL_MEMBER,
    DIRECT,
    GROUP,
    NAMED_KINDS,
    PRIVATE,
    PUBLIC,
    Channel,
    ChannelMember,
)
from quckchat.channel.schemas import ChannelPublic, MemberPublic, NotifyUpdate, ReadState
from quckchat.core.errors import conflict, forbidden, not_found
from quckchat.core.outbox import announce
from quckchat.core.pagination import Page, PageQuery, parse_datetime, read_page
from quckchat.core.runtime import Runtime
from quckchat.core.sql import is_unique_violation
from quckchat.core.tokens import Principal
from quckchat.user import client as user_client


async def member_view(runtime: Runtime, member: ChannelMember) -> MemberPublic:
    (view,) = await user_client.with_names(runtime, MemberPublic, [member])
    return view


async def insert_member(
    session: AsyncSession, runtime: Runtime, channel: Channel, *, user_id: str, actor: str
) -> tuple[ChannelMember, bool]:
    """Add the user as a channel member; a concurrent add of the same user is not an error."""
    try:
        async with session.begin_nested():
            member = await add_member(
                session, runtime, channel, user_id=user_id, role=CHANNEL_MEMBER, actor=actor
            )
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        query = select(ChannelMember).where(
            ChannelMember.channel_id == channel.id, ChannelMember.user_id == user_id
        )
        return await reread(session, query), False
    return member, True


async def join(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, channel_id: str
) -> tuple[ChannelPublic, bool]:
    """Join a public channel (201); already in it: 200. Other kinds are joined by invitation."""
    me = principal.user_id
    channel, member = await access.visible(session, runtime, channel_id=channel_id, user_id=me)
    if member is not None:
        return view(channel, member), False
    if channel.kind != PUBLIC:
        raise forbidden("only public channels can be joined")
    access.require_active(channel)
    member, created = await insert_member(session, runtime, channel, user_id=me, actor=me)
    return view(channel, member), created


async def _remove(
    session: AsyncSession,
    runtime: Runtime,
    channel: Channel,
    member: ChannelMember,
    *,
    actor: str,
    kind: type[events.MemberEvent],
) -> None:
    if channel.kind == DIRECT:
        raise conflict("a direct conversation keeps both its members", slug="direct-fixed")
    if channel.is_default:
        raise conflict("everyone stays in a workspace's default channel", slug="default-channel")
    await drop_member(session, channel, member)
    await access.revoke(runtime, channel, user_id=member.user_id, actor=actor)
    await announce(session, runtime, kind, channel, actor=actor, user_id=member.user_id)


async def leave(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, channel_id: str
) -> None:
    me = principal.user_id
    channel, member = await access.visible(session, runtime, channel_id=channel_id, user_id=me)
    if member is None:
        raise not_found("membership")
    await _remove(session, runtime, channel, member, actor=me, kind=events.MemberLeft)


async def add(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    user_id: str,
) -> tuple[MemberPublic, bool]:
    """Add a workspace member (201; already in: 200). Private channels: channel admins only."""
    me = principal.user_id
    channel, mine = await access.visible(session, runtime, channel_id=channel_id, user_id=me)
    if channel.kind == DIRECT:
        raise conflict("a direct conversation keeps its two members", slug="direct-fixed")
    if channel.kind == PRIVATE:
        await access.require_manage(runtime, channel, mine, me)
    elif not await access.may_manage(runtime, channel, mine, me):
        access.require_member(mine)
    access.require_active(channel)
    existing = await session.get(ChannelMember, (channel.id, user_id))
    if existing is not None:
        return await member_view(runtime, existing), False
    await access.require_workspace_members(
        runtime, workspace_id=channel.workspace_id, user_ids=[user_id]
    )
    member, created = await insert_member(session, runtime, channel, user_id=user_id, actor=me)
    return await member_view(runtime, member), created


async def remove(
    session: AsyncSession,
    runtime: Runtime,
    channel_id: str,
    /,
    *,
    principal: Principal,
    user_id: str,
) -> None:
    """Remove a member (channel admins); removing oneself is leaving."""
    me = principal.user_id
    if user_id == me:
        await leave(session, runtime, principal=principal, channel_id=channel_id)
        return
    channel, mine = await access.visible(session, runtime, channel_id=channel_id, user_id=me)
    if channel.kind == GROUP:
        raise forbidden("in a group conversation members may only leave")
    await access.require_manage(runtime, channel, mine, me)
    member = await session.get(ChannelMember, (channel.id, user_id))
    if member is None:
        raise not_found("member")
    await _remove(session, runtime, channel, member, actor=me, kind=events.MemberRemoved)


async def set_role(
    session: AsyncSession,
    runtime: Runtime,
    channel_id: str,
    /,
    *,
    principal: Principal,
    user_id: str,
    role: str,
) -> MemberPublic:
    """Make a member a channel admin or a plain member (channel admins)."""
    me = principal.user_id
    channel, mine = await access.visible(session, runtime, channel_id=channel_id, user_id=me)
    await access.require_manage(runtime, channel, mine, me)
    if channel.kind not in NAMED_KINDS:
        raise conflict(f"a {channel.kind} conversation has no channel roles", slug="no-roles")
    member = await session.get(ChannelMember, (channel.id, user_id))
    if member is None:
        raise not_found("member")
    if member.role != role:
        previous, member.role = member.role, role
        await session.flush()
        await access.grant(runtime, channel, user_id=user_id, role=role, actor=me)
        await announce(
            session,
            runtime,
            events.MemberRoleChanged,
            channel,
            actor=me,
            user_id=user_id,
            role=role,
            previous_role=previous,
        )
    return await member_view(runtime, member)


async def list_members(
    session: AsyncSession,
    runtime: Runtime,
    channel_id: str,
    /,
    *,
    principal: Principal,
    paging: PageQuery,
) -> Page[MemberPublic]:
    """The channel's members in the order they joined."""
    await access.visible(session, runtime, channel_id=channel_id, user_id=principal.user_id)
    query: Select[Any] = select(ChannelMember).where(ChannelMember.channel_id == channel_id)
    rows, next_cursor = await read_page(
        session,
        query,
        ChannelMember.joined_at,
        ChannelMember.user_id,
        paging=paging,
        descending=False,
        parse=parse_datetime,
    )
    return Page[MemberPublic](
        items=await user_client.with_names(runtime, MemberPublic, rows), next_cursor=next_cursor
    )


async def mark_read(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    seq: int,
) -> ReadState:
    """Move the caller's read pointer forward (never back) and clear their mentions."""
    me = principal.user_id
    channel, member = await access.visible(session, runtime, channel_id=channel_id, user_id=me)
    member = access.require_member(member)
    before = member.last_read_seq
    # One statement: a concurrent read with a lower seq can never move the pointer back.
    await session.execute(
        update(ChannelMember)
        .where(ChannelMember.channel_id == channel.id, ChannelMember.user_id == me)
        .values(
            last_read_seq=case(
                (ChannelMember.last_read_seq < seq, seq), else_=ChannelMember.last_read_seq
            ),
            mention_count=0,
        )
    )
    await session.refresh(member)
    if member.last_read_seq != before:
        await announce(
            session,
            runtime,
            events.ChannelRead,
            channel,
            actor=me,
            user_id=me,
            seq=member.last_read_seq,
        )
    return ReadState(
        channel_id=channel.id,
        last_read_seq=member.last_read_seq,
        unread=max(0, channel.last_seq - member.last_read_seq),
        mentions=member.mention_count,
    )


async def set_muted(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    muted: bool,
    until: datetime | None = None,
) -> ChannelPublic:
    """Mute the channel for the caller (until `until`, or until lifted), or lift the mute."""
    me = principal.user_id
    channel, member = await access.visible(session, runtime, channel_id=channel_id, user_id=me)
    member = access.require_member(member)
    until = until if muted else None
    if member.muted != muted or member.muted_until != until:
        member.muted, member.muted_until = muted, until
        await session.flush()
    return view(channel, member)


async def set_notify(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    change: NotifyUpdate,
) -> ChannelPublic:
    """Set how the caller is told of what happens in the channel (what the body leaves out
    stays as it was)."""
    me = principal.user_id
    channel, member = await access.visible(session, runtime, channel_id=channel_id, user_id=me)
    member = access.require_member(member)
    if change.level is not None:
        member.notify_level = change.level
    if change.ignore_channel_mentions is not None:
        member.ignore_channel_mentions = change.ignore_channel_mentions
    await session.flush()
    return view(channel, member)
