"""The channel service's events: keyed by channel id, each naming its workspace and actor."""

from __future__ import annotations

from typing import Any

from quckchat.channel.models import Channel
from quckchat.core.runtime import Runtime


async def emit(
    runtime: Runtime, type_: str, channel: Channel, *, actor: str | None, **data: Any
) -> None:
    await runtime.emit(
        type_,
        key=channel.id,
        data={
            "workspace_id": channel.workspace_id,
            "channel_id": channel.id,
            "kind": channel.kind,
            "actor": actor,
            **data,
        },
        tenant=channel.tenant,
    )
