"""Who may see a workspace's broadcasts and who may announce, as the owning services say."""

from __future__ import annotations

from quckchat.core.authz import is_allowed
from quckchat.core.errors import forbidden
from quckchat.core.runtime import Runtime
from quckchat.workspace.client import member_role


async def require_announcer(runtime: Runtime, workspace_id: str, user_id: str) -> None:
    """Members who may manage the workspace's settings (admins, owners) announce."""
    await member_role(runtime.http, workspace_id, user_id)
    allowed = await is_allowed(
        runtime, subject=user_id, object="settings", action="manage", tenant=workspace_id
    )
    if not allowed:
        raise forbidden("only the workspace's admins and owners make announcements")
