"""Events from the channel service: a membership or channel change drops cached answers."""

from __future__ import annotations

from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.message.access import forget_channel


async def on_channel_event(runtime: Runtime, event: Event) -> None:
    """Forget what the change may have made stale: one member's standing, or the channel's."""
    channel_id = event.data.get("channel_id")
    if not isinstance(channel_id, str):
        return
    user_id = event.data.get("user_id") if event.type.startswith("channel.member.") else None
    forget_channel(runtime, channel_id, user_id if isinstance(user_id, str) else None)
