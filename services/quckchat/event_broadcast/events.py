"""The events the event-broadcast service produces: one per broadcast, `event-broadcast.<kind>`,
or for a system notice one per workspace. Each is keyed by the broadcast's workspace (else its
channel, its user, the broadcast itself) and seen by the broadcast's audience, which the
envelope carries; the data is the broadcast as the history shows it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AliasChoices,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from quckchat.core.events import Audience, DomainEvent, Event
from quckchat.event_broadcast.schemas import Kind


def _iso(moment: datetime) -> str:
    return moment.isoformat()


# A time as the events have always written it (`+00:00`, not pydantic's `Z`).
Moment = Annotated[datetime, PlainSerializer(_iso, return_type=str, when_used="json")]


class Broadcast(DomainEvent):
    broadcast_id: str
    kind: Kind
    # `type` in the data (the class's `type` is the event's): `announcement`, `system`, or the
    # type of the event the broadcast was made from.
    happened: str = Field(validation_alias=AliasChoices("type", "happened"))
    workspace_id: str | None
    channel_id: str | None
    user_id: str | None
    role: str | None
    text: str | None
    details: dict[str, Any]
    actor: str | None
    created_at: Moment
    # Who sees it: in the envelope, not in the data.
    recipients: Audience = Field(default_factory=Audience, exclude=True)

    @model_serializer(mode="wrap")
    def _as_data(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {("type" if name == "happened" else name): value for name, value in data.items()}

    @property
    def key(self) -> str:
        return self.workspace_id or self.channel_id or self.user_id or self.broadcast_id

    def audience(self) -> Audience | None:
        return self.recipients

    @classmethod
    def of(cls, event: Event) -> Self:
        return cls.model_validate({**event.data, "recipients": event.audience or Audience()})


class Announcement(Broadcast):
    """From a workspace's admins to its members."""

    type: ClassVar[str] = "event-broadcast.announcement"


class Notice(Broadcast):
    """A change the workspace or a channel should know, or the platform's word to everyone."""

    type: ClassVar[str] = "event-broadcast.notice"


class Membership(Broadcast):
    """Someone joined or left, or has a new role."""

    type: ClassVar[str] = "event-broadcast.membership"


BY_KIND: dict[Kind, type[Broadcast]] = {
    Kind.ANNOUNCEMENT: Announcement,
    Kind.NOTICE: Notice,
    Kind.MEMBERSHIP: Membership,
}
