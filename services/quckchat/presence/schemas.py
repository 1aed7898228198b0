"""What the presence API takes and gives."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quckchat.core.sql import utcnow

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
MAX_QUERY = 200

Id = Annotated[str, Field(pattern=ID_PATTERN)]


class Status(StrEnum):
    """What others see. Chosen `offline` is invisible: online, yet shown offline."""

    ONLINE = "online"
    AWAY = "away"
    DND = "dnd"
    OFFLINE = "offline"


class DeviceKind(StrEnum):
    """Desktop and web clients are where a user reads at once; a phone is where pushes go."""

    DESKTOP = "desktop"
    MOBILE = "mobile"
    WEB = "web"


# The window the orchestrator asks about by default: a push waits only if a desktop or web
# client was active this recently.
ACTIVE_WITHIN = 120
MAX_ACTIVE_WITHIN = 3600


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Heartbeat(Strict):
    device_id: Id = Field(description="the client's own stable id for this device or tab")
    active: bool = Field(True, description="false when the user has been idle on this device")
    kind: DeviceKind | None = Field(
        None, description="desktop, mobile or web; absent: guessed from the User-Agent"
    )


class Disconnect(Strict):
    device_id: Id


class StatusUpdate(Strict):
    status: Status
    dnd_until: datetime | None = Field(None, description="with `dnd` only: when it ends")

    @model_validator(mode="after")
    def _dnd_until(self) -> Self:
        if self.dnd_until is None:
            return self
        if self.status is not Status.DND:
            raise ValueError("dnd_until goes with status dnd only")
        if self.dnd_until.tzinfo is None:
            raise ValueError("dnd_until needs a time zone offset, e.g. 2026-01-01T09:00:00Z")
        if self.dnd_until <= utcnow():
            raise ValueError("dnd_until is in the past")
        return self


class PresenceQuery(Strict):
    user_ids: list[Id] = Field(min_length=1, max_length=MAX_QUERY)


class InternalQuery(PresenceQuery):
    active_within: int = Field(
        ACTIVE_WITHIN,
        ge=1,
        le=MAX_ACTIVE_WITHIN,
        description="seconds: whether a desktop or web client was active this recently",
    )


class PresencePublic(BaseModel):
    user_id: str
    status: Status
    last_seen: datetime | None = Field(description="null when their privacy setting hides it")


class PresenceInternal(PresencePublic):
    """What another service needs to decide how to notify the user."""

    dnd_until: datetime | None = Field(description="while in do-not-disturb: when it ends")
    desktop_active: bool = Field(
        description="a desktop or web client was active within `active_within` seconds"
    )
    desktop_active_at: datetime | None = Field(
        description="the last heartbeat of an active desktop or web client (kept an hour)"
    )


class Device(BaseModel):
    device_id: str
    active: bool
    kind: DeviceKind = DeviceKind.WEB


class PresenceMe(PresencePublic):
    chosen: Status = Field(description="the status you chose (`online` = automatic)")
    dnd_until: datetime | None
    devices: list[Device]


class TypingStart(Strict):
    channel_id: Id


class Typist(BaseModel):
    user_id: str
    expires_at: datetime


class Typing(BaseModel):
    channel_id: str
    typing: list[Typist]
