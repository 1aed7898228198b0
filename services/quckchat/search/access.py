"""Where the asker may search: the workspace must know them, the channel service says which
of its channels they read (their own and, unless a guest, the public ones)."""

from __future__ import annotations

from quckchat.channel import client as channel_client
from quckchat.core.runtime import Runtime
from quckchat.workspace import client as workspace_client


async def readable_channels(runtime: Runtime, *, workspace_id: str, user_id: str) -> frozenset[str]:
    """The asker's readable channel ids; 404 when they are not in the workspace."""
    await workspace_client.member_role(runtime.http, workspace_id, user_id)
    channels = await channel_client.readable_channels(
        runtime.http, workspace_id=workspace_id, user_id=user_id
    )
    return frozenset(str(c) for c in channels)
