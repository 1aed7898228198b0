"""Channels: open, see, list, browse, change and archive them (keyword-only functions).

Each change is flushed, mirrored into the permission service, then announced as an event;
the request's transaction commits after, so a failure on the way rolls the rows back.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, and_, select
from sqlalchemy import update as update_rows
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel import access, events
from quckchat.channel.models import (
    CHANNEL_ADMIN,
    CHANNEL_MEMBER,
    DIRECT,
    GROUP,
    NAMED_KINDS,
    Channel,
    ChannelMember,
)
from quckchat.channel.schemas import (
    GROUP_MAX,
    GROUP_MIN,
    ChannelCreate,
    ChannelPublic,
    ChannelUpdate,
)
from quckchat.core.errors import Problem, conflict, not_found
from quckchat.core.outbox import announce
from quckchat.core.pagination import Page, PageQuery, parse_datetime, read_page
from quckchat.core.runtime import Runtime
from quckchat.core.sql import is_unique_violation, utcnow
from quckchat.core.tokens import Principal


def view(channel: Channel, member: ChannelMember | None = None) -> ChannelPublic:
    """The channel with the caller's standing: role, unread messages and mentions."""
    body = ChannelPublic.model_validate(channel, from_attributes=True)
    if member is None:
        return body
    return body.model_copy(
        update={
            "role": member.role,
            "unread": max(0, channel.last_seq - member.last_read_seq),
            "mentions": member.mention_count,
            "muted": member.muted,
            "muted_until": member.muted_until if member.muted else None,
            "notify_level": member.notify_level,
            "ignore_channel_mentions": member.ignore_channel_mentions,
        }
    )


def direct_key(a: str, b: str) -> str:
    # User ids never hold "/" (the permission service's id pattern), so the pair is unambiguous.
    return "/".join(sorted((a, b)))


def _others(body: ChannelCreate, me: str) -> list[str]:
    """The members besides the caller, checked against the kind's size rules."""
    others = sorted(set(body.members) - {me})
    if body.kind == DIRECT and len(others) != 1:
        raise Problem(422, "a direct conversation is between you and one other user")
    if body.kind == GROUP and not GROUP_MIN <= len(others) + 1 <= GROUP_MAX:
        raise Problem(422, f"a group conversation has {GROUP_MIN} to {GROUP_MAX} members")
    return others


async def reread(session: AsyncSession, query: Select[Any]) -> Any:
    """The row another transaction inserted first (after losing the race to insert it).

    A locking read sees it even under MySQL's REPEATABLE READ; a shared one, as every loser of
    the same race holds one (exclusive ones would deadlock).
    """
    return await session.scalar(
        query.with_for_update(read=True).execution_options(populate_existing=True)
    )


async def _existing_direct(
    session: AsyncSession, *, workspace_id: str, key: str, raced: bool = False
) -> Channel | None:
    query = select(Channel).where(Channel.workspace_id == workspace_id, Channel.direct_key == key)
    found: Channel | None = await (reread(session, query) if raced else session.scalar(query))
    return found


async def add_member(
    session: AsyncSession,
    runtime: Runtime,
    channel: Channel,
    *,
    user_id: str,
    role: str,
    actor: str,
) -> ChannelMember:
    """Insert the membership (unread starts now), mirror the role, announce the join.

    A group that is full refuses with a 409; the membership row then goes with the request.
    """
    member = ChannelMember(
        channel_id=channel.id,
        user_id=user_id,
        workspace_id=channel.workspace_id,
        role=role,
        last_read_seq=channel.last_seq,
        mention_count=0,
        muted=False,
        joined_at=utcnow(),
    )
    session.add(member)
    await session.flush()
    await _count(session, channel, +1)
    await access.grant(runtime, channel, user_id=user_id, role=role, actor=actor)
    await announce(
        session, runtime, events.MemberJoined, channel, actor=actor, user_id=user_id, role=role
    )
    return member


async def _count(session: AsyncSession, channel: Channel, change: int) -> None:
    """Change the member count in one statement; a group at its cap matches no row."""
    query = update_rows(Channel).where(Channel.id == channel.id)
    if change > 0 and channel.kind == GROUP:
        query = query.where(Channel.member_count < GROUP_MAX)
    result = await session.execute(
        query.values(member_count=Channel.member_count + change).execution_options(
            synchronize_session=False
        )
    )
    if getattr(result, "rowcount", 1) == 0:
        raise conflict(f"a group holds at most {GROUP_MAX} members", slug="group-full")
    await session.refresh(channel, ["member_count"])


async def drop_member(session: AsyncSession, channel: Channel, member: ChannelMember) -> None:
    await session.delete(member)
    await session.flush()
    await _count(session, channel, -1)


async def insert_channel(session: AsyncSession, channel: Channel) -> bool:
    """Insert the channel; False when its name (or direct pair) is taken in the workspace."""
    try:
        async with session.begin_nested():
            session.add(channel)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        return False
    return True


async def create(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, body: ChannelCreate
) -> tuple[ChannelPublic, bool]:
    """Open a channel (201), or return the pair's direct conversation when it exists (200)."""
    me, workspace_id = principal.user_id, body.workspace_id
    others = _others(body, me)
    await access.require_create(runtime, workspace_id=workspace_id, user_id=me)
    key = direct_key(me, others[0]) if body.kind == DIRECT else None
    if key is not None and (
        found := await _existing_direct(session, workspace_id=workspace_id, key=key)
    ):
        return view(found, await session.get(ChannelMember, (found.id, me))), False
    await access.require_workspace_members(runtime, workspace_id=workspace_id, user_ids=others)
    channel = Channel(
        workspace_id=workspace_id,
        tenant=principal.tenant,
        kind=body.kind,
        name=body.name,
        direct_key=key,
        topic=body.topic,
        purpose=body.purpose,
        is_default=False,
        announcement_only=False,
        member_count=0,
        created_by=me,
        last_seq=0,
    )
    if not await insert_channel(session, channel):
        if key is not None and (
            found := await _existing_direct(session, workspace_id=workspace_id, key=key, raced=True)
        ):
            return view(found, await session.get(ChannelMember, (found.id, me))), False
        raise conflict(f"a channel named {body.name} already exists", slug="name-taken")
    await announce(session, runtime, events.ChannelCreated, channel, actor=me, name=channel.name)
    creator_role = CHANNEL_ADMIN if body.kind in NAMED_KINDS else CHANNEL_MEMBER
    mine = await add_member(session, runtime, channel, user_id=me, role=creator_role, actor=me)
    for other in others:
        await add_member(session, runtime, channel, user_id=other, role=CHANNEL_MEMBER, actor=me)
    return view(channel, mine), True


async def get(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, channel_id: str
) -> ChannelPublic:
    channel, member = await access.visible(
        session, runtime, channel_id=channel_id, user_id=principal.user_id
    )
    return view(channel, member)


async def list_mine(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    workspace_id: str,
    paging: PageQuery,
) -> Page[ChannelPublic]:
    """The caller's channels in the workspace, in the order they joined them."""
    role = await access.workspace_role(
        runtime, workspace_id=workspace_id, user_id=principal.user_id
    )
    if role is None:
        raise not_found("workspace")
    query = cast(
        Select[Any],
        select(Channel, ChannelMember)
        .join(ChannelMember, ChannelMember.channel_id == Channel.id)
        .where(ChannelMember.user_id == principal.user_id, Channel.workspace_id == workspace_id),
    )
    rows, next_cursor = await read_page(
        session,
        query,
        ChannelMember.joined_at,
        ChannelMember.channel_id,
        paging=paging,
        descending=False,
        parse=parse_datetime,
    )
    return Page[ChannelPublic](items=[view(c, m) for c, m in rows], next_cursor=next_cursor)


async def browse(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    workspace_id: str,
    paging: PageQuery,
) -> Page[ChannelPublic]:
    """The workspace's public, unarchived channels by name, the caller's standing in each."""
    await access.require_full_member(runtime, workspace_id=workspace_id, user_id=principal.user_id)
    query = cast(
        Select[Any],
        select(Channel, ChannelMember)
        .outerjoin(
            ChannelMember,
            and_(
                ChannelMember.channel_id == Channel.id, ChannelMember.user_id == principal.user_id
            ),
        )
        .where(
            Channel.workspace_id == workspace_id,
            Channel.kind == "public",
            Channel.archived_at.is_(None),
        ),
    )
    rows, next_cursor = await read_page(
        session, query, Channel.name, Channel.id, paging=paging, descending=False
    )
    return Page[ChannelPublic](items=[view(c, m) for c, m in rows], next_cursor=next_cursor)


def _check_update(channel: Channel, changes: dict[str, Any]) -> None:
    if channel.kind not in NAMED_KINDS:
        for name in ("name", "announcement_only"):
            if name in changes:
                raise Problem(422, f"a {channel.kind} conversation has no {name.replace('_', '-')}")


async def update(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    body: ChannelUpdate,
) -> ChannelPublic:
    """Change topic, purpose, name, announcement-only or the timer (channel admins)."""
    me = principal.user_id
    channel, member = await access.visible(session, runtime, channel_id=channel_id, user_id=me)
    await access.require_manage(runtime, channel, member, me)
    access.require_active(channel)
    changes = body.changes()
    _check_update(channel, changes)
    changed = sorted(name for name, value in changes.items() if getattr(channel, name) != value)
    if not changed:
        return view(channel, member)
    for name in changed:
        setattr(channel, name, changes[name])
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise conflict(f"a channel named {body.name} already exists", slug="name-taken") from exc
    await announce(
        session,
        runtime,
        events.ChannelUpdated,
        channel,
        actor=me,
        changed=changed,
        **{n: changes[n] for n in changed},
    )
    return view(channel, member)


async def set_archived(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    channel_id: str,
    archived: bool,
) -> ChannelPublic:
    """Archive or unarchive a public or private channel (channel admins); a repeat is a no-op."""
    me = principal.user_id
    channel, member = await access.visible(session, runtime, channel_id=channel_id, user_id=me)
    await access.require_manage(runtime, channel, member, me)
    if channel.kind not in NAMED_KINDS:
        raise conflict(f"a {channel.kind} conversation cannot be archived", slug="not-archivable")
    if channel.is_default:
        raise conflict("a workspace's default channel cannot be archived", slug="default-channel")
    if (channel.archived_at is not None) == archived:
        return view(channel, member)
    channel.archived_at = utcnow() if archived else None
    await session.flush()
    kind = events.ChannelArchived if archived else events.ChannelUnarchived
    await announce(session, runtime, kind, channel, actor=me)
    return view(channel, member)
