"""Who an event is for, as its producer declared it. Pure.

Realtime learns an event's audience from its envelope only (`Event.audience`, set from the
producer's `DomainEvent.audience()`); an envelope without one is for no client.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quckchat.core.events import Event, Membership


@dataclass(frozen=True)
class Audience:
    """Anyone in the channel, anyone in the workspace, or one of the users (any that is set)."""

    channel_id: str | None = None
    workspace_id: str | None = None
    users: frozenset[str] = field(default_factory=frozenset)
    # The users join or leave the channel (or workspace) with this event (core.events.Audience).
    membership: Membership | None = None

    @property
    def empty(self) -> bool:
        return self.channel_id is None and self.workspace_id is None and not self.users


def audience_of(event: Event) -> Audience:
    """The audience the event's envelope declares; empty (for no client) when it has none."""
    declared = event.audience
    if declared is None:
        return Audience()
    return Audience(
        channel_id=declared.channel_id,
        workspace_id=declared.workspace_id,
        users=frozenset(declared.users),
        membership=declared.membership,
    )
