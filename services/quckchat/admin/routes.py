"""The admin API: find accounts, suspend, reactivate, force logout, platform counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from quckchat.admin import logic
from quckchat.admin.schemas import (
    AdminUser,
    AdminUserPage,
    LogoutResult,
    PlatformStats,
    SuspendRequest,
    UserSearch,
)
from quckchat.core.authz import PlatformAdmin
from quckchat.core.deps import RuntimeDep

# Every route takes the PlatformAdmin dependency: the permission service must allow
# `administer` on `platform` for the caller.
router = APIRouter(
    tags=["admin"],
    responses={
        401: {"description": "no valid token"},
        403: {"description": "not a platform administrator"},
        502: {"description": "the auth or user service failed"},
        503: {"description": "the auth, user or permission service is unreachable"},
    },
)

UserIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
UNKNOWN_USER: dict[int | str, dict[str, Any]] = {404: {"description": "no such account"}}


@router.get("/users", response_model=AdminUserPage)
async def find_users(
    runtime: RuntimeDep, admin: PlatformAdmin, search: Annotated[UserSearch, Query()]
) -> AdminUserPage:
    """Accounts matching a phone, email or id fragment, with their display names."""
    return await logic.find_users(
        runtime, admin=admin, query=search.query, cursor=search.cursor, limit=search.limit
    )


@router.get("/users/{user_id}", response_model=AdminUser, responses=UNKNOWN_USER)
async def get_user(runtime: RuntimeDep, _admin: PlatformAdmin, user_id: UserIdPath) -> AdminUser:
    return await logic.get_user(runtime, user_id=user_id)


@router.post(
    "/users/{user_id}/suspend",
    response_model=AdminUser,
    responses={**UNKNOWN_USER, 409: {"description": "one's own account"}},
)
async def suspend_user(
    runtime: RuntimeDep, admin: PlatformAdmin, user_id: UserIdPath, body: SuspendRequest
) -> AdminUser:
    """Suspend the account and end all its sessions."""
    return await logic.suspend_user(runtime, admin=admin, user_id=user_id, reason=body.reason)


@router.post("/users/{user_id}/reactivate", response_model=AdminUser, responses=UNKNOWN_USER)
async def reactivate_user(
    runtime: RuntimeDep, admin: PlatformAdmin, user_id: UserIdPath
) -> AdminUser:
    return await logic.reactivate_user(runtime, admin=admin, user_id=user_id)


@router.post("/users/{user_id}/logout", response_model=LogoutResult, responses=UNKNOWN_USER)
async def force_logout(
    runtime: RuntimeDep, admin: PlatformAdmin, user_id: UserIdPath
) -> LogoutResult:
    """End every session of the account now."""
    return await logic.force_logout(runtime, admin=admin, user_id=user_id)


@router.get("/stats", response_model=PlatformStats)
async def platform_stats(runtime: RuntimeDep, _admin: PlatformAdmin) -> PlatformStats:
    """Account, session, profile and device counts across the platform."""
    return await logic.platform_stats(runtime)
