"""Members of a workspace: list them, change their roles, remove them (or leave)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel import client as channel_client
from quckchat.core.errors import Problem, conflict, forbidden, not_found
from quckchat.core.outbox import announce
from quckchat.core.pagination import Page, PageQuery, parse_datetime, read_page
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal
from quckchat.permission import client as permission_client
from quckchat.user import client as user_client
from quckchat.workspace import events
from quckchat.workspace.logic import require, seats, visible
from quckchat.workspace.models import GUEST, OWNER, Member
from quckchat.workspace.schemas import MemberPublic


async def member_view(runtime: Runtime, member: Member) -> MemberPublic:
    (view,) = await user_client.with_names(runtime, MemberPublic, [member])
    return view


async def _owners(session: AsyncSession, workspace_id: str) -> int:
    query = (
        select(func.count())
        .select_from(Member)
        .where(Member.workspace_id == workspace_id, Member.role == OWNER)
    )
    return int(await session.scalar(query) or 0)


def _last_owner() -> Problem:
    return conflict("a workspace keeps at least one owner", slug="last-owner")


def guests_refused() -> Problem:
    return conflict("this workspace does not allow guests", slug="guests-not-allowed")


async def list_members(
    session: AsyncSession,
    runtime: Runtime,
    workspace_id: str,
    /,
    *,
    principal: Principal,
    paging: PageQuery,
) -> Page[MemberPublic]:
    """The workspace's members in the order they joined (not for guests)."""
    workspace, _ = await visible(session, principal=principal, workspace_id=workspace_id)
    await require(runtime, workspace, user_id=principal.user_id, obj="members", action="read")
    query: Select[Any] = select(Member).where(Member.workspace_id == workspace_id)
    rows, next_cursor = await read_page(
        session,
        query,
        Member.joined_at,
        Member.user_id,
        paging=paging,
        descending=False,
        parse=parse_datetime,
    )
    members = await user_client.with_names(runtime, MemberPublic, rows)
    return Page[MemberPublic](items=members, next_cursor=next_cursor)


async def _target(session: AsyncSession, workspace_id: str, user_id: str) -> Member:
    member = await session.get(Member, (workspace_id, user_id))
    if member is None:
        raise not_found("member")
    return member


async def remove(
    session: AsyncSession,
    runtime: Runtime,
    workspace_id: str,
    /,
    *,
    principal: Principal,
    user_id: str,
) -> None:
    """Remove a member (owners and admins; only owners remove owners), or leave (oneself)."""
    me = principal.user_id
    workspace, mine = await visible(session, principal=principal, workspace_id=workspace_id)
    if user_id != me:
        await require(runtime, workspace, user_id=me, obj="members", action="manage")
    target = await _target(session, workspace_id, user_id)
    if target.role == OWNER:
        if mine.role != OWNER:
            raise forbidden("only an owner may remove an owner")
        if await _owners(session, workspace_id) <= 1:
            raise _last_owner()
    await session.delete(target)
    await session.flush()
    await seats(session, workspace, -1)
    await permission_client.revoke_role(
        runtime.http, tenant=workspace_id, user_id=user_id, actor=me
    )
    await announce(
        session,
        runtime,
        events.MemberRemoved,
        workspace,
        actor=me,
        user_id=user_id,
        role=target.role,
        left=user_id == me,
    )


async def set_role(
    session: AsyncSession,
    runtime: Runtime,
    workspace_id: str,
    /,
    *,
    principal: Principal,
    user_id: str,
    role: str,
) -> MemberPublic:
    """Change a member's role (owners and admins; only owners make or unmake owners)."""
    me = principal.user_id
    workspace, mine = await visible(session, principal=principal, workspace_id=workspace_id)
    await require(runtime, workspace, user_id=me, obj="members", action="manage")
    target = await _target(session, workspace_id, user_id)
    if target.role == role:
        return await member_view(runtime, target)
    if OWNER in (role, target.role) and mine.role != OWNER:
        raise forbidden("only an owner may make, change or remove an owner")
    if target.role == OWNER and await _owners(session, workspace_id) <= 1:
        raise _last_owner()
    if role == GUEST and not workspace.guests_allowed:
        raise guests_refused()
    previous, target.role = target.role, role
    await session.flush()
    await permission_client.assign_role(
        runtime.http, tenant=workspace_id, user_id=user_id, role=role, actor=me
    )
    if previous == GUEST:
        await channel_client.join_default_channels(
            runtime.http, workspace_id=workspace_id, user_id=user_id
        )
    await announce(
        session,
        runtime,
        events.MemberRoleChanged,
        workspace,
        actor=me,
        user_id=user_id,
        role=role,
        previous_role=previous,
    )
    return await member_view(runtime, target)
