"""Who an event is for: a channel's members, a workspace's members, or named users. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quckchat.core.events import Event


@dataclass(frozen=True)
class Audience:
    """Anyone in the channel, anyone in the workspace, or one of the users (any that is set)."""

    channel_id: str | None = None
    workspace_id: str | None = None
    users: frozenset[str] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return self.channel_id is None and self.workspace_id is None and not self.users


# Events for the person they concern only (their other devices), not the channel.
PERSONAL = frozenset({"message.hidden", "channel.read", "message.read.self"})
# Membership changes: the channel sees them, and so does the member (who may have just left).
MEMBERSHIP = ("channel.member.",)
# Events that concern their workspace as a whole.
WORKSPACE_WIDE = ("workspace.", "presence.changed")


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def _users(data: dict[str, Any], *names: str) -> frozenset[str]:
    found: set[str] = set()
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value:
            found.add(value)
        elif isinstance(value, list):
            found.update(v for v in value if isinstance(v, str) and v)
    return frozenset(found)


def audience_of(event: Event) -> Audience:
    """The audience an event names, by its type and data; empty when it is for no client."""
    data = event.data
    explicit = data.get("audience")
    if isinstance(explicit, dict):
        return Audience(
            channel_id=_text(explicit, "channel_id"),
            workspace_id=_text(explicit, "workspace_id"),
            users=_users(explicit, "users"),
        )
    if event.type in PERSONAL:
        return Audience(users=_users(data, "user_id"))
    if event.type.startswith(MEMBERSHIP):
        return Audience(channel_id=_text(data, "channel_id"), users=_users(data, "user_id"))
    if event.type.startswith(WORKSPACE_WIDE):
        return Audience(workspace_id=_text(data, "workspace_id"), users=_users(data, "user_id"))
    if event.type.startswith("thread."):
        return Audience(users=_users(data, "followers", "user_id"))
    if channel_id := _text(data, "channel_id"):
        return Audience(channel_id=channel_id)
    return Audience(users=_users(data, "user_id", "users"))
