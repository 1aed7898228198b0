"""The events the admin service produces: what a platform administrator (`actor`) did.

The audit service records them. An action on an account is keyed by that account, and its
owner's devices see it; a search is keyed by the administrator, and no client sees it.
"""

from __future__ import annotations

from typing import ClassVar

from quckchat.core.events import AboutUser, DomainEvent


class AdminEvent(DomainEvent):
    actor: str


class UsersSearched(AdminEvent):
    type: ClassVar[str] = "admin.users.searched"
    query: str

    @property
    def key(self) -> str:
        return self.actor


class UserAction(AdminEvent, AboutUser):
    """An action on one account."""


class UserSuspended(UserAction):
    type: ClassVar[str] = "admin.user.suspended"
    reason: str


class UserReactivated(UserAction):
    type: ClassVar[str] = "admin.user.reactivated"


class UserLoggedOut(UserAction):
    """Every session of the account was ended."""

    type: ClassVar[str] = "admin.user.logged_out"
    revoked_sessions: int
