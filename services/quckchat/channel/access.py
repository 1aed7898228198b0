"""Who may see and act on a channel, and the channel roles mirrored into the permission service.

A channel's members are its own rows; the workspace service says who belongs to a workspace
(and as what), the permission service decides who may manage a channel (channel admins, and
workspace owners and admins through their `channel:*` rules).
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel.models import CHANNEL_ADMIN, DIRECT, GROUP, PUBLIC, Channel, ChannelMember
from quckchat.core.authz import is_allowed
from quckchat.core.errors import Problem, conflict, forbidden, not_found
from quckchat.core.runtime import Runtime
from quckchat.permission import client as permission_client
from quckchat.permission.client import channel_object
from quckchat.workspace import client as workspace_client

# Guests see only the channels they were added to; these roles see every public channel.
FULL_MEMBER_ROLES = frozenset({"owner", "admin", "member"})


async def workspace_role(runtime: Runtime, *, workspace_id: str, user_id: str) -> str | None:
    """The user's role in the workspace, or None when they are not in it."""
    return await workspace_client.role_of(runtime.http, workspace_id, user_id)


async def require_full_member(runtime: Runtime, *, workspace_id: str, user_id: str) -> None:
    """404 outside the workspace, 403 for a guest (who sees only channels they were added to)."""
    role = await workspace_role(runtime, workspace_id=workspace_id, user_id=user_id)
    if role is None:
        raise not_found("workspace")
    if role not in FULL_MEMBER_ROLES:
        raise forbidden("guests see only the channels they were added to")


async def require_workspace_members(
    runtime: Runtime, *, workspace_id: str, user_ids: list[str]
) -> None:
    """Every user must belong to the workspace: a 409 names the first who does not."""
    roles = await asyncio.gather(
        *(workspace_role(runtime, workspace_id=workspace_id, user_id=u) for u in user_ids)
    )
    for user_id, role in zip(user_ids, roles, strict=True):
        if role is None:
            raise conflict(
                f"user {user_id} is not a member of this workspace", slug="not-a-workspace-member"
            )


async def require_create(runtime: Runtime, *, workspace_id: str, user_id: str) -> None:
    """May the user open a channel in the workspace? 404 when they are not in it at all."""
    if await is_allowed(
        runtime, subject=user_id, object="workspace", action="create-channel", tenant=workspace_id
    ):
        return
    if await workspace_role(runtime, workspace_id=workspace_id, user_id=user_id) is None:
        raise not_found("workspace")
    raise forbidden("you may not open channels in this workspace")


async def visible(
    session: AsyncSession, runtime: Runtime, *, channel_id: str, user_id: str
) -> tuple[Channel, ChannelMember | None]:
    """The channel and the user's membership; 404 unless a member, or public to a full member."""
    channel = await session.get(Channel, channel_id)
    if channel is None:
        raise not_found("channel")
    member = await session.get(ChannelMember, (channel_id, user_id))
    if member is not None:
        return channel, member
    if channel.kind == PUBLIC:
        role = await workspace_role(runtime, workspace_id=channel.workspace_id, user_id=user_id)
        if role in FULL_MEMBER_ROLES:
            return channel, None
    raise not_found("channel")


async def may_manage(
    runtime: Runtime, channel: Channel, member: ChannelMember | None, user_id: str
) -> bool:
    """Channel admins and workspace owners/admins; in direct and group talks, every member."""
    if channel.kind in (DIRECT, GROUP):
        return member is not None
    if member is not None and member.role == CHANNEL_ADMIN:
        return True
    return await is_allowed(
        runtime,
        subject=user_id,
        object=channel_object(channel.id),
        action="manage",
        tenant=channel.workspace_id,
    )


async def require_manage(
    runtime: Runtime, channel: Channel, member: ChannelMember | None, user_id: str
) -> None:
    if not await may_manage(runtime, channel, member, user_id):
        raise forbidden("only channel admins may do this")


def require_member(member: ChannelMember | None) -> ChannelMember:
    if member is None:
        raise Problem(403, "you are not a member of this channel", slug="not-a-member")
    return member


def require_active(channel: Channel) -> None:
    if channel.archived_at is not None:
        raise conflict("the channel is archived", slug="channel-archived")


async def grant(runtime: Runtime, channel: Channel, *, user_id: str, role: str, actor: str) -> None:
    """Give (or change) the user's channel role in the permission service."""
    await permission_client.assign_role(
        runtime.http,
        tenant=channel.workspace_id,
        channel_id=channel.id,
        user_id=user_id,
        role=role,
        actor=actor,
    )


async def revoke(runtime: Runtime, channel: Channel, *, user_id: str, actor: str | None) -> None:
    """End the user's channel role; one already gone (a workspace removal) is fine."""
    await permission_client.revoke_role(
        runtime.http,
        tenant=channel.workspace_id,
        channel_id=channel.id,
        user_id=user_id,
        actor=actor,
    )
