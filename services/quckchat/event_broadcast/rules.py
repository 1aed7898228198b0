"""Which consumed events people should see, as what, and by whom. Pure.

Role changes come from the service that made them with their context (the workspace's
`workspace.member.role_changed`, the channel's `channel.member.role_changed`); the permission
service's own role events are used only for platform roles, which nothing else announces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quckchat.channel import events as channel_events
from quckchat.core.events import Event
from quckchat.event_broadcast.schemas import Kind
from quckchat.permission import events as perm_events
from quckchat.workspace import events as ws_events

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


# Role changes as the service that made them announces them, with their context.
ROLE_CHANGES: dict[
    str, type[ws_events.MemberRoleChanged] | type[channel_events.MemberRoleChanged]
] = {kind.type: kind for kind in (ws_events.MemberRoleChanged, channel_events.MemberRoleChanged)}
ROLE_EVENTS: dict[str, type[perm_events.RoleEvent]] = {
    kind.type: kind for kind in (perm_events.RoleAssigned, perm_events.RoleRevoked)
}
# Channel events everyone in the channel is told of.
CHANNEL_NOTICES: dict[str, type[channel_events.ChannelEvent]] = {
    channel_events.ChannelArchived.type: channel_events.ChannelArchived,
    channel_events.ChannelUnarchived.type: channel_events.ChannelUnarchived,
}


def _membership(event: Event) -> Draft | None:
    """A member joined or left a workspace, or their role changed (workspace or channel)."""
    if event.type == ws_events.MemberJoined.type:
        if (joined := ws_events.MemberJoined.parse(event)) is None:
            return None
        audience = Audience(workspace_id=joined.workspace_id)
        return Draft(Kind.MEMBERSHIP, audience, joined.user_id, joined.role)
    if (removed := ws_events.MemberRemoved.parse(event)) is not None:
        # The one who left is told too: they are no longer among the workspace's members.
        audience = Audience(workspace_id=removed.workspace_id, users=(removed.user_id,))
        details = {"left": removed.left}
        return Draft(Kind.MEMBERSHIP, audience, removed.user_id, removed.role, details)
    return None


def _role_change(event: Event) -> Draft | None:
    kind = ROLE_CHANGES[event.type]
    change = kind.parse(event)
    if change is None:
        return None
    whom, previous = change.user_id, {"previous_role": change.previous_role or None}
    return Draft(Kind.MEMBERSHIP, Audience(users=(whom,)), whom, change.role or None, previous)


def _settings_notice(event: Event) -> Draft | None:
    updated = ws_events.WorkspaceUpdated.parse(event)
    if updated is None:
        return None
    changed = [c for c in updated.changed if c in VISIBLE_SETTINGS]
    if not changed:
        return None
    details = {"changed": changed, **{name: getattr(updated, name) for name in changed}}
    return Draft(Kind.NOTICE, Audience(workspace_id=updated.workspace_id), details=details)


def _platform_role(event: Event) -> Draft | None:
    """The permission service's own role events, for platform roles only."""
    change = ROLE_EVENTS[event.type].parse(event)
    if change is None or change.tenant != PLATFORM:
        return None
    details = {"revoked": isinstance(change, perm_events.RoleRevoked)}
    return Draft(
        Kind.MEMBERSHIP, Audience(users=(change.user_id,)), change.user_id, change.role, details
    )


def draft_for(event: Event) -> Draft | None:
    """The broadcast an event makes, or None when it is for nobody to see (or malformed)."""
    kind = event.type
    if kind in (ws_events.MemberJoined.type, ws_events.MemberRemoved.type):
        return _membership(event)
    if kind in ROLE_CHANGES:
        return _role_change(event)
    if kind == ws_events.WorkspaceUpdated.type:
        return _settings_notice(event)
    if kind in CHANNEL_NOTICES:
        notice = CHANNEL_NOTICES[kind].parse(event)
        return (
            None if notice is None else Draft(Kind.NOTICE, Audience(channel_id=notice.channel_id))
        )
    if kind in ROLE_EVENTS:
        return _platform_role(event)
    return None
