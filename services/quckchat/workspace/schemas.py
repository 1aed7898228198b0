"""Request and response bodies of the workspace service; bounds make bad input a 422."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

from quckchat.core.values import Patch
from quckchat.permission.client import UserId
from quckchat.workspace.models import DEFAULT_MAX_MEMBERS, DEFAULT_MAX_STORAGE_BYTES

Role = Literal["owner", "admin", "member", "guest"]
InviteRole = Literal["member", "guest"]
InviteKind = Literal["email", "phone", "link"]

ENTITY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
EntityId = Annotated[str, StringConstraints(pattern=ENTITY_ID_PATTERN)]
# Lowercase: MySQL's default collation would take ids differing only in case for one key.
CHANGE_ID_PATTERN = r"^[a-z0-9][a-z0-9_.:-]{0,63}$"
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
Slug = Annotated[
    str,
    StringConstraints(pattern=SLUG_PATTERN),
    Field(description="lowercase letters, digits and inner `-`, at most 63; unique"),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
Tenant = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
RetentionDays = Annotated[int, Field(ge=1, le=36500)]
Token = Annotated[
    str, StringConstraints(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
]


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retention_days: RetentionDays | None = Field(None, description="null keeps messages forever")
    guests_allowed: bool = False


class SettingsUpdate(Patch):
    nullable: ClassVar[frozenset[str]] = frozenset({"retention_days"})

    retention_days: RetentionDays | None = None
    guests_allowed: bool | None = None


class Quotas(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_members: int = Field(DEFAULT_MAX_MEMBERS, ge=1, le=1_000_000)
    max_storage_bytes: int = Field(DEFAULT_MAX_STORAGE_BYTES, ge=1, le=2**53)


class QuotasUpdate(Patch):
    max_members: int | None = Field(None, ge=1, le=1_000_000)
    max_storage_bytes: int | None = Field(None, ge=1, le=2**53)


class WorkspaceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    slug: Slug | None = Field(None, description="derived from the name when absent")


class WorkspaceUpdate(Patch):
    name: Name | None = None
    settings: SettingsUpdate | None = None


class WorkspacePublic(BaseModel):
    id: str
    name: str
    slug: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    settings: Settings
    quotas: Quotas
    member_count: int
    role: Role | None = Field(None, description="the caller's role")


class MemberPublic(BaseModel):
    workspace_id: str
    user_id: str
    display_name: str | None = None
    role: Role
    invited_by: str | None
    joined_at: datetime


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class InviteCreate(BaseModel):
    """An invite for one person, by email or phone, or an open link (`kind: link`).

    A person's invite can be used only by the user whose verified email or phone matches; a
    link, by anyone holding it, as many times as its `max_uses`, until it expires.
    """

    model_config = ConfigDict(extra="forbid")

    kind: InviteKind | None = Field(None, description="email or phone (from the address) or link")
    email: EmailStr | None = None
    phone: Phone | None = None
    role: InviteRole = "member"
    max_uses: int | None = Field(
        None, ge=1, le=10_000, description="a link's use limit (required); a person's invite: 1"
    )
    expires_in_days: int = Field(7, ge=1, le=30)

    @model_validator(mode="after")
    def _kind_matches(self) -> Self:
        if self.email is not None and self.phone is not None:
            raise ValueError("an invite goes to an email address or a phone number, not both")
        address: InviteKind | None = (
            "email" if self.email is not None else "phone" if self.phone is not None else None
        )
        if self.kind is None:
            if address is None:
                raise ValueError("give an email or a phone, or kind 'link' for an open link")
            self.kind = address
        if self.kind == "link":
            if address is not None:
                raise ValueError("a link invite is for anyone holding it: give no email or phone")
            if self.max_uses is None:
                raise ValueError("a link invite needs max_uses, the number of people it admits")
        else:
            if address != self.kind:
                raise ValueError(f"an invite of kind {self.kind!r} needs its {self.kind}")
            if self.max_uses not in (None, 1):
                raise ValueError("an invite for one person is used once: leave max_uses out")
            self.max_uses = 1
        return self


class InvitePublic(BaseModel):
    id: str
    workspace_id: str
    kind: InviteKind
    email: str | None
    phone: str | None
    role: Role
    max_uses: int | None
    uses: int
    expires_at: datetime
    created_by: str | None
    created_at: datetime


class InviteCreated(InvitePublic):
    token: str = Field(description="shown once: only its hash is kept")
    url: str = Field(description="the join link to send")


class InvitePreview(BaseModel):
    """What an invite leads to, for whoever holds its token (no sign-in needed: the token is
    the key); shown before joining."""

    workspace_id: str
    workspace_name: str
    kind: InviteKind
    role: Role
    invited_by: str | None
    invited_by_name: str | None = Field(description="the inviter's display name, if they set one")
    expires_at: datetime
    uses_left: int | None = Field(description="a link's uses left; None when it has no limit")


class JoinRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Token


# Internal


class MembershipInternal(BaseModel):
    workspace_id: str
    user_id: str
    role: Role


class UserWorkspace(BaseModel):
    workspace_id: str
    role: Role


class StorageUsage(BaseModel):
    workspace_id: str
    max_storage_bytes: int
    storage_used_bytes: int


class QuotaInternal(StorageUsage):
    max_members: int
    member_count: int


class StorageChangeRequest(BaseModel):
    """Bytes a file service starts or stops keeping; the id in the path keys the change."""

    model_config = ConfigDict(extra="forbid")

    bytes: int = Field(ge=1, le=2**53)


class WorkspaceRef(BaseModel):
    id: str
    tenant: str
    slug: str


class WorkspaceBatch(BaseModel):
    items: list[WorkspaceRef]
    next_after_id: str | None = Field(None, description="where the next batch starts; null: done")


class ProvisionOwner(BaseModel):
    """The owner: a user id, or the email or phone of a person who may not have signed up yet."""

    model_config = ConfigDict(extra="forbid")

    user_id: UserId | None = None
    email: EmailStr | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if sum(v is not None for v in (self.user_id, self.email, self.phone)) != 1:
            raise ValueError("the owner is one of user_id, email or phone")
        return self


class ProvisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: Tenant
    name: Name
    slug: Slug
    owner: ProvisionOwner
    quotas: Quotas = Field(default_factory=Quotas)
    settings: Settings = Field(default_factory=Settings)


class ProvisionUpdate(Patch):
    name: Name | None = None
    quotas: QuotasUpdate | None = None
    settings: SettingsUpdate | None = None


class WorkspaceInternal(WorkspacePublic):
    tenant: str
    owner_ids: list[str]


class Provisioned(BaseModel):
    workspace: WorkspaceInternal
    owner_invite: InviteCreated | None = Field(
        None, description="while the owner has not joined: the link that makes them the owner"
    )


class Export(BaseModel):
    workspace: WorkspaceInternal
    members: list[MemberPublic]
    channels: list[dict[str, Any]]
