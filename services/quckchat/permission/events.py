"""The events the permission service produces: a role assigned or revoked, one per assignment.

Keyed by the user whose role it is. `tenant` is the workspace (`platform` for platform roles),
`channel_id` the channel for a channel role. A channel role's change is for that channel's
members to see; a workspace or platform role's, for its holder.
"""

from __future__ import annotations

from typing import ClassVar

from quckchat.core.events import Audience, DomainEvent


class RoleEvent(DomainEvent):
    actor: str
    user_id: str
    role: str
    tenant: str
    channel_id: str | None = None

    @property
    def key(self) -> str:
        return self.user_id

    def audience(self) -> Audience | None:
        if self.channel_id:
            return Audience(channel_id=self.channel_id)
        return Audience(users=(self.user_id,))


class RoleAssigned(RoleEvent):
    """The user holds `role` there now (replacing the role they held there before)."""

    type: ClassVar[str] = "permission.role.assigned"


class RoleRevoked(RoleEvent):
    type: ClassVar[str] = "permission.role.revoked"
