"""What the permission API reads and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from quckchat.permission.policy import PLATFORM, ROLES

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
OBJECT_PATTERN = r"^[a-z][a-z-]{0,31}(:([A-Za-z0-9][A-Za-z0-9_.-]{0,63}|\*))?$"
ACTION_PATTERN = r"^[a-z][a-z.-]{0,31}$"


def _not_a_role(value: str) -> str:
    # casbin treats a subject named like a role as that role.
    if value in ROLES:
        raise ValueError("a user id may not be the name of a role")
    return value


def _not_platform(value: str) -> str:
    if value == PLATFORM:
        raise ValueError("`platform` is not a workspace; use the platform-admin API")
    return value


UserId = Annotated[
    str,
    Field(pattern=ID_PATTERN, description="a user id", examples=["7f3a9c"]),
    AfterValidator(_not_a_role),
]
ChannelId = Annotated[str, Field(pattern=ID_PATTERN, description="a channel id")]
Tenant = Annotated[str, Field(pattern=ID_PATTERN, description="a workspace id, or `platform`")]
WorkspaceId = Annotated[Tenant, AfterValidator(_not_platform)]
Object = Annotated[
    str,
    Field(
        pattern=OBJECT_PATTERN,
        description="`workspace`, `members`, `settings`, `channel:<id>` or `platform`",
        examples=["channel:general"],
    ),
]
Action = Annotated[
    str,
    Field(
        pattern=ACTION_PATTERN,
        description="`read`, `write`, `manage`, `create-channel`, `administer` or `audit.read`",
        examples=["read"],
    ),
]
WorkspaceRole = Literal["owner", "admin", "member", "guest"]
ChannelRole = Literal["channel-admin", "channel-member"]


class CheckRequest(BaseModel):
    """May the caller do `action` on `object` in the tenant of their token?"""

    model_config = ConfigDict(extra="forbid")

    object: Object
    action: Action


class InternalCheckRequest(CheckRequest):
    subject: UserId
    tenant: Tenant


class CheckResult(BaseModel):
    allowed: bool


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: WorkspaceRole


class ChannelRoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: ChannelRole


class InternalRoleAssign(BaseModel):
    """A role given by another service: a workspace role, or a channel role with `channel_id`."""

    model_config = ConfigDict(extra="forbid")

    user_id: UserId
    role: WorkspaceRole | ChannelRole
    tenant: WorkspaceId
    channel_id: ChannelId | None = None
    actor: UserId | None = Field(None, description="the user the calling service acts for")

    @model_validator(mode="after")
    def _role_fits_scope(self) -> Self:
        is_channel_role = self.role.startswith("channel-")
        if is_channel_role != (self.channel_id is not None):
            raise ValueError("channel roles need a channel_id; workspace roles take none")
        return self


class InternalRoleRevoke(BaseModel):
    """Which assignment to end: the workspace role (and with it every channel role) or one."""

    model_config = ConfigDict(extra="forbid")

    user_id: UserId
    tenant: WorkspaceId
    channel_id: ChannelId | None = None
    actor: UserId | None = None


class InternalActor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor: UserId | None = None


class AssignmentPublic(BaseModel):
    user_id: str
    role: str
    tenant: str
    channel_id: str | None = None
    changed_at: datetime


class ChannelRolePublic(BaseModel):
    channel_id: str
    role: str


class MyRoles(BaseModel):
    user_id: str
    tenant: str
    role: str | None = Field(description="the workspace role; none when not a member")
    channels: list[ChannelRolePublic]
    platform_admin: bool
