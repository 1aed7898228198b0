"""Where the asker may search: the workspace must know them, the channel service says which
of its channels they read (their own and, unless a guest, the public ones)."""

from __future__ import annotations

from quckchat.core.errors import not_found
from quckchat.core.http import raise_for_problem
from quckchat.core.runtime import Runtime


async def readable_channels(runtime: Runtime, *, workspace_id: str, user_id: str) -> frozenset[str]:
    """The asker's readable channel ids; 404 when they are not in the workspace."""
    member = await runtime.http.request(
        "workspace", "GET", f"/internal/workspaces/{workspace_id}/members/{user_id}"
    )
    if member.status_code == 404:
        raise not_found("workspace")
    raise_for_problem("workspace", member)
    channels = await runtime.http.json(
        "channel",
        "GET",
        f"/internal/users/{user_id}/readable-channels",
        params={"workspace_id": workspace_id},
    )
    return frozenset(str(c) for c in channels)
