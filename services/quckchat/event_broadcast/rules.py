"""Which consumed events people should see, as what, and by whom. Pure.

Role changes come from the service that made them with their context (the workspace's
`workspace.member.role_changed`, the channel's `channel.member.role_changed`); the permission
service's own role events are used only for platform roles, which nothing else announces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from quckchat.channel import events as channel_events
from quckchat.core.events import DomainEvent, Event
from quckchat.event_broadcast.schemas import Kind

# Workspace fields every member sees; quotas and the like are for admins.
VISIBLE_SETTINGS = ("name", "retention_days", "guests_allowed")
PLATFORM = "platform"


@dataclass(frozen=True)
class Audience:
    """Who sees a broadcast: the workspace's members, a channel's, and/or named users."""

    workspace_id: str | None = None
    channel_id: str | None = None
    users: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.workspace_id:
            found["workspace_id"] = self.workspace_id
        if self.channel_id:
            found["channel_id"] = self.channel_id
        if self.users:
            found["users"] = list(self.users)
        return found


@dataclass(frozen=True)
class Draft:
    """A broadcast to make from an event."""

    kind: Kind
    audience: Audience
    user_id: str | None = None
    role: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


# Channel events everyone in the channel is told of.
CHANNEL_NOTICES: dict[str, type[channel_events.ChannelEvent]] = {
    channel_events.ChannelArchived.type: channel_events.ChannelArchived,
    channel_events.ChannelUnarchived.type: channel_events.ChannelUnarchived,
}

Typed = TypeVar("Typed", bound=DomainEvent)


def _typed(model: type[Typed], event: Event) -> Typed | None:
    """The event as its producer declares it; None for a malformed one (told by nobody)."""
    try:
        return model.of(event)
    except ValidationError:
        return None


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def draft_for(event: Event) -> Draft | None:
    """The broadcast an event makes, or None when it is for nobody to see."""
    data = event.data
    workspace_id = _text(data, "workspace_id")
    user_id, role = _text(data, "user_id"), _text(data, "role")
    kind = event.type
    if kind == "workspace.member.joined" and workspace_id and user_id:
        return Draft(Kind.MEMBERSHIP, Audience(workspace_id=workspace_id), user_id, role)
    if kind == "workspace.member.removed" and workspace_id and user_id:
        # The one who left is told too: they are no longer among the workspace's members.
        audience = Audience(workspace_id=workspace_id, users=(user_id,))
        return Draft(Kind.MEMBERSHIP, audience, user_id, role, {"left": bool(data.get("left"))})
    if kind == "workspace.member.role_changed" and user_id:
        previous = {"previous_role": _text(data, "previous_role")}
        return Draft(Kind.MEMBERSHIP, Audience(users=(user_id,)), user_id, role, previous)
    if kind == channel_events.MemberRoleChanged.type:
        change = _typed(channel_events.MemberRoleChanged, event)
        if change is None or not change.user_id:
            return None
        whom, previous = change.user_id, {"previous_role": change.previous_role or None}
        return Draft(Kind.MEMBERSHIP, Audience(users=(whom,)), whom, change.role or None, previous)
    if kind == "workspace.updated" and workspace_id:
        changed = [c for c in data.get("changed") or [] if c in VISIBLE_SETTINGS]
        if not changed:
            return None
        details = {"changed": changed, **{name: data.get(name) for name in changed}}
        return Draft(Kind.NOTICE, Audience(workspace_id=workspace_id), details=details)
    if kind in CHANNEL_NOTICES:
        notice = _typed(CHANNEL_NOTICES[kind], event)
        if notice is None or not notice.channel_id:
            return None
        return Draft(Kind.NOTICE, Audience(channel_id=notice.channel_id))
    if kind.startswith("permission.role.") and data.get("tenant") == PLATFORM and user_id:
        details = {"revoked": kind == "permission.role.revoked"}
        return Draft(Kind.MEMBERSHIP, Audience(users=(user_id,)), user_id, role, details)
    return None
