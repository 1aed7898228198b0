"""Platform administration over the auth and user services' internal APIs.

Admin keeps no state: every action is a call to the service that owns the account, followed
by an event on quckchat.admin that the audit service records.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from quckchat.admin.schemas import AdminUser, AdminUserPage, LogoutResult, PlatformStats
from quckchat.core.errors import Problem, conflict
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal


def _user_path(user_id: str, action: str = "") -> str:
    return f"/internal/users/{quote(user_id, safe='')}{action}"


async def _display_name(runtime: Runtime, user_id: str) -> str | None:
    try:
        profile = await runtime.http.json("user", "GET", _user_path(user_id))
    except Problem as exc:
        # An account without a profile yet is still an account.
        if exc.status == 404:
            return None
        raise
    name = profile.get("display_name") if isinstance(profile, dict) else None
    return name if isinstance(name, str) else None


async def _with_profile(runtime: Runtime, item: dict[str, Any]) -> AdminUser:
    user = AdminUser.model_validate(item)
    user.display_name = await _display_name(runtime, user.id)
    return user


async def _audit(
    runtime: Runtime, type_: str, *, admin: Principal, user_id: str, **extra: Any
) -> None:
    await runtime.emit(
        type_,
        key=user_id,
        data={"actor": admin.user_id, "user_id": user_id, **extra},
        tenant=admin.tenant,
    )


async def find_users(
    runtime: Runtime, *, admin: Principal, query: str | None, cursor: str | None, limit: int
) -> AdminUserPage:
    """Accounts whose phone, email or id match, each with its profile's display name."""
    params: dict[str, Any] = {"limit": limit}
    if query:
        params["query"] = query
    if cursor:
        params["cursor"] = cursor
    found = await runtime.http.json("auth", "GET", "/internal/users", params=params)
    items = await asyncio.gather(*(_with_profile(runtime, item) for item in found["items"]))
    await runtime.emit(
        "admin.users.searched",
        key=admin.user_id,
        data={"actor": admin.user_id, "query": query or ""},
        tenant=admin.tenant,
    )
    return AdminUserPage(items=list(items), next_cursor=found.get("next_cursor"))


async def get_user(runtime: Runtime, *, user_id: str) -> AdminUser:
    return await _with_profile(runtime, await runtime.http.json("auth", "GET", _user_path(user_id)))


async def suspend_user(
    runtime: Runtime, *, admin: Principal, user_id: str, reason: str
) -> AdminUser:
    """Suspend the account (auth ends all its sessions at once); never one's own."""
    if user_id == admin.user_id:
        raise conflict("an administrator cannot suspend their own account", slug="self-suspend")
    item = await runtime.http.json(
        "auth", "POST", _user_path(user_id, "/suspend"), json={"reason": reason}
    )
    await _audit(runtime, "admin.user.suspended", admin=admin, user_id=user_id, reason=reason)
    return await _with_profile(runtime, item)


async def reactivate_user(runtime: Runtime, *, admin: Principal, user_id: str) -> AdminUser:
    item = await runtime.http.json("auth", "POST", _user_path(user_id, "/reactivate"))
    await _audit(runtime, "admin.user.reactivated", admin=admin, user_id=user_id)
    return await _with_profile(runtime, item)


async def force_logout(runtime: Runtime, *, admin: Principal, user_id: str) -> LogoutResult:
    """End every session of the account; its access tokens stop working at once."""
    result = LogoutResult.model_validate(
        await runtime.http.json("auth", "POST", _user_path(user_id, "/logout"))
    )
    await _audit(
        runtime,
        "admin.user.logged_out",
        admin=admin,
        user_id=user_id,
        revoked_sessions=result.revoked_sessions,
    )
    return result


async def platform_stats(runtime: Runtime) -> PlatformStats:
    auth, user = await asyncio.gather(
        runtime.http.json("auth", "GET", "/internal/stats"),
        runtime.http.json("user", "GET", "/internal/stats"),
    )
    return PlatformStats.model_validate({**auth, **user})
