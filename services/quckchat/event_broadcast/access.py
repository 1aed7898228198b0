"""Who may see a workspace's broadcasts and who may announce, as the owning services say."""

from __future__ import annotations

from quckchat.core.authz import is_allowed
from quckchat.core.errors import forbidden, not_found
from quckchat.core.http import raise_for_problem
from quckchat.core.runtime import Runtime


async def require_member(runtime: Runtime, workspace_id: str, user_id: str) -> str:
    """The user's role in the workspace; 404 as if it did not exist when they are not in it."""
    response = await runtime.http.request(
        "workspace", "GET", f"/internal/workspaces/{workspace_id}/members/{user_id}"
    )
    if response.status_code == 404:
        raise not_found("workspace")
    raise_for_problem("workspace", response)
    return str(response.json()["role"])


async def require_announcer(runtime: Runtime, workspace_id: str, user_id: str) -> None:
    """Members who may manage the workspace's settings (admins, owners) announce."""
    await require_member(runtime, workspace_id, user_id)
    allowed = await is_allowed(
        runtime, subject=user_id, object="settings", action="manage", tenant=workspace_id
    )
    if not allowed:
        raise forbidden("only the workspace's admins and owners make announcements")


async def channels_of(runtime: Runtime, user_id: str) -> list[str]:
    found: list[str] = await runtime.http.json(
        "channel", "GET", f"/internal/users/{user_id}/channels"
    )
    return found
