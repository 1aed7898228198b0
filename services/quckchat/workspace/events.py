"""The events the workspace service produces: keyed by workspace id, each naming its workspace
and who acted. The workspace's members see them; a member change is seen by that member too
(who may have just left)."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from quckchat.core.events import Audience, InWorkspace, Membership
from quckchat.workspace.models import Workspace


class WorkspaceEvent(InWorkspace):
    actor: str | None = None

    @classmethod
    def about(cls, workspace: Workspace, /, *, actor: str | None, **fields: object) -> Self:
        return cls.model_validate({"workspace_id": workspace.id, "actor": actor, **fields})


class WorkspaceCreated(WorkspaceEvent):
    type: ClassVar[str] = "workspace.created"
    name: str
    retention_days: int | None = None


class WorkspaceUpdated(WorkspaceEvent):
    """The fields named in `changed` hold their new values; the others are left out."""

    type: ClassVar[str] = "workspace.updated"
    changed: list[str]
    name: str | None = None
    retention_days: int | None = None
    guests_allowed: bool | None = None
    max_members: int | None = None
    max_storage_bytes: int | None = None

    @model_serializer(mode="wrap")
    def _changed_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        values = set(type(self).model_fields) - set(WorkspaceEvent.model_fields) - {"changed"}
        return {k: v for k, v in data.items() if k not in values or k in self.changed}


class WorkspaceDeleted(WorkspaceEvent):
    type: ClassVar[str] = "workspace.deleted"
    slug: str

    def audience(self) -> Audience | None:
        return Audience(workspace_id=self.workspace_id, membership="left")


class MemberEvent(WorkspaceEvent):
    user_id: str
    role: str
    # Whether the member joins or leaves the workspace with this event.
    membership: ClassVar[Membership | None] = None

    def audience(self) -> Audience | None:
        return Audience(
            workspace_id=self.workspace_id, users=(self.user_id,), membership=self.membership
        )


class MemberJoined(MemberEvent):
    type: ClassVar[str] = "workspace.member.joined"
    membership: ClassVar[Membership | None] = "joined"


class MemberRemoved(MemberEvent):
    """`left`: the member removed themselves."""

    type: ClassVar[str] = "workspace.member.removed"
    membership: ClassVar[Membership | None] = "left"
    left: bool


class MemberRoleChanged(MemberEvent):
    type: ClassVar[str] = "workspace.member.role_changed"
    previous_role: str


class InviteDelivery(BaseModel):
    """Where a person's invite is to be sent (a link invite has none)."""

    model_config = ConfigDict(frozen=True)

    email: str | None = None
    phone: str | None = None
    url: str


class InviteCreated(WorkspaceEvent):
    """For the services that deliver invites: its delivery holds the join link, which no
    member's client may see (only the invitee may hold it)."""

    type: ClassVar[str] = "workspace.invite.created"
    invite_id: str
    role: str
    delivery: InviteDelivery | None = None
    # What the invitee is told they are invited to.
    workspace_name: str | None = None

    def audience(self) -> Audience | None:
        return None
