"""Who may manage a channel's bookmarks, as the permission service says."""

from __future__ import annotations

from quckchat.channel.client import Membership
from quckchat.core.authz import is_allowed
from quckchat.core.runtime import Runtime
from quckchat.permission.client import channel_object

CONVERSATIONS = frozenset({"direct", "group"})


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
