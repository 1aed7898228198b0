"""Who may see a message and manage a channel's bookmarks, as the other services say."""

from __future__ import annotations

from typing import Any

from quckchat.core.authz import is_allowed
from quckchat.core.errors import not_found
from quckchat.core.http import raise_for_problem
from quckchat.core.runtime import Runtime
from quckchat.message.access import Membership, membership
from quckchat.permission.policy import channel_object

__all__ = ["Membership", "may_manage", "membership", "visible_message"]
CONVERSATIONS = frozenset({"direct", "group"})


async def visible_message(
    runtime: Runtime, *, user_id: str, message_id: str
) -> tuple[dict[str, Any], Membership]:
    """A live message of a channel the user is in, with their membership; else 404."""
    response = await runtime.http.request("message", "GET", f"/internal/messages/{message_id}")
    if response.status_code == 404:
        raise not_found("message")
    raise_for_problem("message", response)
    message: dict[str, Any] = response.json()
    member = await membership(runtime, message["channel_id"], user_id)
    if message.get("deleted"):
        raise not_found("message")
    return message, member


async def may_manage(runtime: Runtime, member: Membership) -> bool:
    """Channel admins, workspace owners and admins; in direct and group talks, every member."""
    if member.kind in CONVERSATIONS or member.is_admin:
        return True
    return await is_allowed(
        runtime,
        subject=member.user_id,
        object=channel_object(member.channel_id),
        action="manage",
        tenant=member.workspace_id,
    )
