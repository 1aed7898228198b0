"""Platform administration over the auth and user services' internal APIs.

Admin keeps no state: every action is a call to the service that owns the account, followed
by an event on quckchat.admin that the audit service records.
"""

from __future__ import annotations

import asyncio
from typing import Any

from quckchat.admin.events import (
    UserLoggedOut,
    UserReactivated,
    UsersSearched,
    UserSuspended,
)
from quckchat.admin.schemas import AdminUser, AdminUserPage, LogoutResult, PlatformStats
from quckchat.auth import client as auth_client
from quckchat.core.errors import conflict
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal
from quckchat.user import client as user_client


async def _display_name(runtime: Runtime, user_id: str) -> str | None:
    # An account without a profile yet is still an account.
    profile = await user_client.profile(runtime.http, user_id)
    name = profile.get("display_name") if profile is not None else None
    return name if isinstance(name, str) else None


async def _with_profile(runtime: Runtime, item: dict[str, Any]) -> AdminUser:
    user = AdminUser.model_validate(item)
    user.display_name = await _display_name(runtime, user.id)
    return user


async def find_users(
    runtime: Runtime, *, admin: Principal, query: str | None, cursor: str | None, limit: int
) -> AdminUserPage:
    """Accounts whose phone, email or id match, each with its profile's display name."""
    found = await auth_client.find_accounts(runtime.http, query=query, limit=limit, cursor=cursor)
    items = await asyncio.gather(*(_with_profile(runtime, item) for item in found["items"]))
    searched = UsersSearched(actor=admin.user_id, query=query or "")
    await runtime.emit(searched, tenant=admin.tenant)
    return AdminUserPage(items=list(items), next_cursor=found.get("next_cursor"))


async def get_user(runtime: Runtime, *, user_id: str) -> AdminUser:
    return await _with_profile(runtime, await auth_client.account(runtime.http, user_id))


async def suspend_user(
    runtime: Runtime, *, admin: Principal, user_id: str, reason: str
) -> AdminUser:
    """Suspend the account (auth ends all its sessions at once); never one's own."""
    if user_id == admin.user_id:
        raise conflict("an administrator cannot suspend their own account", slug="self-suspend")
    item = await auth_client.suspend(runtime.http, user_id, reason=reason)
    event = UserSuspended(actor=admin.user_id, user_id=user_id, reason=reason)
    await runtime.emit(event, tenant=admin.tenant)
    return await _with_profile(runtime, item)


async def reactivate_user(runtime: Runtime, *, admin: Principal, user_id: str) -> AdminUser:
    item = await auth_client.reactivate(runtime.http, user_id)
    await runtime.emit(UserReactivated(actor=admin.user_id, user_id=user_id), tenant=admin.tenant)
    return await _with_profile(runtime, item)


async def force_logout(runtime: Runtime, *, admin: Principal, user_id: str) -> LogoutResult:
    """End every session of the account; its access tokens stop working at once."""
    result = LogoutResult.model_validate(
        await auth_client.log_out_everywhere(runtime.http, user_id)
    )
    event = UserLoggedOut(
        actor=admin.user_id, user_id=user_id, revoked_sessions=result.revoked_sessions
    )
    await runtime.emit(event, tenant=admin.tenant)
    return result


async def platform_stats(runtime: Runtime) -> PlatformStats:
    auth, user = await asyncio.gather(
        auth_client.stats(runtime.http),
        user_client.stats(runtime.http),
    )
    return PlatformStats.model_validate({**auth, **user})
