"""The permission API: checks answered from memory, and role assignments.

Public routes act in the tenant of the caller's token; `/internal/...` routes are for other
services and name the tenant themselves.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from quckchat.core.deps import CurrentUser, InternalCaller, RuntimeDep, SessionDep
from quckchat.core.errors import forbidden
from quckchat.core.pagination import Page, Paging
from quckchat.permission import decisions, logic
from quckchat.permission.models import PolicyRule
from quckchat.permission.policy import PLATFORM
from quckchat.permission.schemas import (
    AssignmentPublic,
    ChannelId,
    ChannelRolePublic,
    ChannelRoleUpdate,
    CheckRequest,
    CheckResult,
    InternalActor,
    InternalCheckRequest,
    InternalRoleAssign,
    InternalRoleRevoke,
    MyRoles,
    RoleUpdate,
    UserId,
)

router = APIRouter(tags=["permission"])
internal_router = APIRouter(tags=["permission-internal"])

UserIdPath = Annotated[UserId, Path(description="the user whose role this is")]
ChannelIdPath = Annotated[ChannelId, Path()]
PROBLEM = {"description": "problem+json", "content": {"application/problem+json": {}}}
PUBLIC: dict[int | str, dict[str, Any]] = {
    401: {**PROBLEM, "description": "no valid token"},
    403: {**PROBLEM, "description": "the caller may not manage these roles"},
    422: {**PROBLEM, "description": "the request is not valid"},
}
CHANGE: dict[int | str, dict[str, Any]] = {
    **PUBLIC,
    409: {**PROBLEM, "description": "last owner, not a member, or a concurrent change"},
}
INTERNAL: dict[int | str, dict[str, Any]] = {
    401: {**PROBLEM, "description": "not a QuckChat service"},
    422: {**PROBLEM, "description": "the request is not valid"},
}


def _public(rule: PolicyRule) -> AssignmentPublic:
    tenant, channel_id = logic.scope_of(rule)
    return AssignmentPublic(
        user_id=rule.v0,
        role=rule.v1,
        tenant=tenant,
        channel_id=channel_id,
        changed_at=rule.changed_at,
    )


@internal_router.post("/internal/check", response_model=CheckResult, responses=INTERNAL)
async def internal_check(
    _caller: InternalCaller, runtime: RuntimeDep, body: InternalCheckRequest
) -> CheckResult:
    """May `subject` do `action` on `object` in `tenant`? Answered from this replica's memory."""
    allowed = decisions.get(runtime).allowed(
        subject=body.subject, tenant=body.tenant, obj=body.object, action=body.action
    )
    return CheckResult(allowed=allowed)


@router.post("/check", response_model=CheckResult, responses=PUBLIC)
async def check(principal: CurrentUser, runtime: RuntimeDep, body: CheckRequest) -> CheckResult:
    """May the caller do `action` on `object` in the tenant of their token?"""
    allowed = decisions.get(runtime).allowed(
        subject=principal.user_id, tenant=principal.tenant, obj=body.object, action=body.action
    )
    return CheckResult(allowed=allowed)


@router.put("/roles/{user_id}", response_model=AssignmentPublic, responses=CHANGE)
async def put_role(
    principal: CurrentUser, runtime: RuntimeDep, user_id: UserIdPath, body: RoleUpdate
) -> AssignmentPublic:
    """Give a user a workspace role (owners and admins; only an owner makes owners)."""
    rule = await logic.assign(
        runtime,
        actor=principal.user_id,
        user_id=user_id,
        role=body.role,
        tenant=principal.tenant,
        authorize=True,
    )
    return _public(rule)


@router.delete(
    "/roles/{user_id}",
    status_code=204,
    response_class=Response,
    responses={**CHANGE, 404: {**PROBLEM, "description": "the user has no role here"}},
)
async def delete_role(principal: CurrentUser, runtime: RuntimeDep, user_id: UserIdPath) -> None:
    """Remove a user from the workspace's roles, and from every channel role in it."""
    await logic.revoke(
        runtime, actor=principal.user_id, user_id=user_id, tenant=principal.tenant, authorize=True
    )


@router.get("/roles", response_model=Page[AssignmentPublic], responses=PUBLIC)
async def list_roles(
    principal: CurrentUser,
    runtime: RuntimeDep,
    session: SessionDep,
    query: Paging,
) -> Page[AssignmentPublic]:
    """The workspace's role assignments (workspace and channel roles), by user id."""
    allowed = decisions.get(runtime).allowed(
        subject=principal.user_id, tenant=principal.tenant, obj="members", action="read"
    )
    if not allowed:
        raise forbidden("you may not see the members of this workspace")
    rows, next_cursor = await logic.list_assignments(session, tenant=principal.tenant, paging=query)
    return Page[AssignmentPublic](items=[_public(r) for r in rows], next_cursor=next_cursor)


@router.put(
    "/channels/{channel_id}/roles/{user_id}", response_model=AssignmentPublic, responses=CHANGE
)
async def put_channel_role(
    principal: CurrentUser,
    runtime: RuntimeDep,
    channel_id: ChannelIdPath,
    user_id: UserIdPath,
    body: ChannelRoleUpdate,
) -> AssignmentPublic:
    """Give a workspace member a role in one channel (workspace owners/admins, channel admins)."""
    rule = await logic.assign(
        runtime,
        actor=principal.user_id,
        user_id=user_id,
        role=body.role,
        tenant=principal.tenant,
        channel_id=channel_id,
        authorize=True,
    )
    return _public(rule)


@router.delete(
    "/channels/{channel_id}/roles/{user_id}",
    status_code=204,
    response_class=Response,
    responses={**PUBLIC, 404: {**PROBLEM, "description": "the user has no role there"}},
)
async def delete_channel_role(
    principal: CurrentUser, runtime: RuntimeDep, channel_id: ChannelIdPath, user_id: UserIdPath
) -> None:
    """End a user's role in one channel."""
    await logic.revoke(
        runtime,
        actor=principal.user_id,
        user_id=user_id,
        tenant=principal.tenant,
        channel_id=channel_id,
        authorize=True,
    )


@router.get("/me/roles", response_model=MyRoles, responses={401: PUBLIC[401]})
async def my_roles(principal: CurrentUser, session: SessionDep) -> MyRoles:
    """The caller's roles in the tenant of their token, and whether they run the platform."""
    rules = await logic.roles_of(session, user_id=principal.user_id, tenant=principal.tenant)
    role = next((r.v1 for r in rules if r.v2 == principal.tenant), None)
    channels = [
        ChannelRolePublic(channel_id=channel_id, role=r.v1)
        for r in rules
        if (channel_id := logic.scope_of(r)[1]) is not None
    ]
    return MyRoles(
        user_id=principal.user_id,
        tenant=principal.tenant,
        role=role,
        channels=sorted(channels, key=lambda c: c.channel_id),
        platform_admin=any(r.v2 == PLATFORM for r in rules),
    )


@internal_router.put(
    "/internal/roles",
    response_model=AssignmentPublic,
    responses={**INTERNAL, 409: {**PROBLEM, "description": "last owner or not a member"}},
)
async def internal_put_role(
    caller: InternalCaller, runtime: RuntimeDep, body: InternalRoleAssign
) -> AssignmentPublic:
    """Give a user a workspace role, or a channel role with `channel_id`, for another service."""
    rule = await logic.assign(
        runtime,
        actor=body.actor or f"service:{caller}",
        user_id=body.user_id,
        role=body.role,
        tenant=body.tenant,
        channel_id=body.channel_id,
        authorize=False,
    )
    return _public(rule)


@internal_router.delete(
    "/internal/roles",
    status_code=204,
    response_class=Response,
    responses={
        **INTERNAL,
        404: {**PROBLEM, "description": "no such assignment"},
        409: {**PROBLEM, "description": "the last owner"},
    },
)
async def internal_delete_role(
    caller: InternalCaller, runtime: RuntimeDep, query: Annotated[InternalRoleRevoke, Query()]
) -> None:
    """End a workspace role (with the channel roles in it), or one channel role."""
    await logic.revoke(
        runtime,
        actor=query.actor or f"service:{caller}",
        user_id=query.user_id,
        tenant=query.tenant,
        channel_id=query.channel_id,
        authorize=False,
    )


@internal_router.put(
    "/internal/platform-admins/{user_id}", response_model=AssignmentPublic, responses=INTERNAL
)
async def put_platform_admin(
    caller: InternalCaller,
    runtime: RuntimeDep,
    user_id: UserIdPath,
    query: Annotated[InternalActor, Query()],
) -> AssignmentPublic:
    """Make a user a platform administrator."""
    rule = await logic.grant_platform_admin(
        runtime, actor=query.actor or f"service:{caller}", user_id=user_id
    )
    return _public(rule)


@internal_router.delete(
    "/internal/platform-admins/{user_id}",
    status_code=204,
    response_class=Response,
    responses={**INTERNAL, 404: {**PROBLEM, "description": "not a platform administrator"}},
)
async def delete_platform_admin(
    caller: InternalCaller,
    runtime: RuntimeDep,
    user_id: UserIdPath,
    query: Annotated[InternalActor, Query()],
) -> None:
    """End a user's platform administration."""
    await logic.revoke_platform_admin(
        runtime, actor=query.actor or f"service:{caller}", user_id=user_id
    )
