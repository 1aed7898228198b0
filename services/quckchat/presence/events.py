"""The events the presence service produces.

`presence.changed` is keyed by the user, one copy per workspace they are in (each seen by that
workspace's members) or, in none, one for their own devices; the user's own devices see every
copy. `presence.typing` is keyed by the channel and seen by its members.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import PlainSerializer

from quckchat.core.events import Audience, DomainEvent, InChannel
from quckchat.presence.schemas import Status


def _iso(moment: datetime) -> str:
    return moment.isoformat()


# A time as the events have always written it (`+00:00`, not pydantic's `Z`).
Moment = Annotated[datetime, PlainSerializer(_iso, return_type=str, when_used="json")]


class PresenceChanged(DomainEvent):
    """What others now see of the user; `last_seen` only where everyone may see it."""

    type: ClassVar[str] = "presence.changed"
    user_id: str
    status: Status
    last_seen: Moment | None
    workspace_ids: list[str]
    # The number of the change announced (the stored `change_version`).
    version: int
    actor: str
    # The workspace this copy is for; None for the one a user in no workspace gets.
    workspace_id: str | None

    @property
    def key(self) -> str:
        return self.user_id

    def audience(self) -> Audience | None:
        return Audience(workspace_id=self.workspace_id, users=(self.user_id,))


class Typing(InChannel):
    """The user types in the channel; told again while they go on, forgotten `expires_in`
    seconds after."""

    type: ClassVar[str] = "presence.typing"
    user_id: str
    actor: str
    expires_in: int
