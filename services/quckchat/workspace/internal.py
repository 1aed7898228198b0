"""What other services and the operator ask of the workspace service."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.channel import client as channel_client
from quckchat.core.errors import not_found
from quckchat.core.outbox import announce
from quckchat.core.runtime import Runtime
from quckchat.user import client as user_client
from quckchat.workspace import events, peers
from quckchat.workspace.invites import OWNER_INVITE_DAYS, issue
from quckchat.workspace.logic import (
    admit,
    apply_changes,
    insert,
    provision,
    remove,
    slug_taken,
    view,
)
from quckchat.workspace.models import OWNER, Invite, Member, Workspace
from quckchat.workspace.schemas import (
    Export,
    MemberPublic,
    MembershipInternal,
    Provisioned,
    ProvisionOwner,
    ProvisionRequest,
    ProvisionUpdate,
    QuotaInternal,
    UserWorkspace,
    WorkspaceBatch,
    WorkspaceInternal,
    WorkspaceRef,
)


async def membership(
    session: AsyncSession, *, workspace_id: str, user_id: str
) -> MembershipInternal:
    member = await session.get(Member, (workspace_id, user_id))
    if member is None:
        raise not_found("member")
    return MembershipInternal.model_validate(member, from_attributes=True)


async def user_workspaces(session: AsyncSession, *, user_id: str) -> list[UserWorkspace]:
    query = select(Member).where(Member.user_id == user_id).order_by(Member.workspace_id)
    rows = (await session.scalars(query)).all()
    return [UserWorkspace(workspace_id=m.workspace_id, role=m.role) for m in rows]


async def quota(session: AsyncSession, *, workspace_id: str) -> QuotaInternal:
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None:
        raise not_found("workspace")
    return QuotaInternal(
        workspace_id=workspace.id,
        max_members=workspace.max_members,
        member_count=workspace.member_count,
        max_storage_bytes=workspace.max_storage_bytes,
        storage_used_bytes=workspace.storage_used_bytes,
    )


async def list_workspaces(
    session: AsyncSession, *, after_id: str | None, limit: int
) -> WorkspaceBatch:
    """Every workspace of the installation in id order, a batch at a time (search reindexes)."""
    query = select(Workspace.id, Workspace.tenant, Workspace.slug).order_by(Workspace.id)
    if after_id is not None:
        query = query.where(Workspace.id > after_id)
    rows = (await session.execute(query.limit(limit))).all()
    items = [WorkspaceRef(id=r.id, tenant=r.tenant, slug=r.slug) for r in rows]
    return WorkspaceBatch(items=items, next_after_id=items[-1].id if len(items) == limit else None)


async def _owner_ids(session: AsyncSession, workspace_id: str) -> list[str]:
    query = select(Member.user_id).where(Member.workspace_id == workspace_id, Member.role == OWNER)
    return sorted((await session.scalars(query)).all())


async def internal_view(session: AsyncSession, workspace: Workspace) -> WorkspaceInternal:
    return WorkspaceInternal(
        **view(workspace, role=None).model_dump(),
        tenant=workspace.tenant,
        owner_ids=await _owner_ids(session, workspace.id),
    )


async def by_slug(session: AsyncSession, slug: str) -> Workspace:
    workspace = await session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        raise not_found("workspace")
    return workspace


async def _owner_id(runtime: Runtime, owner: ProvisionOwner) -> str | None:
    """The owner's user id: given, or the account with their email or phone (None: no account)."""
    if owner.user_id is not None:
        return owner.user_id
    email = str(owner.email) if owner.email is not None else None
    return await peers.find_account(runtime, email=email, phone=owner.phone)


async def _settle_owner(
    session: AsyncSession, runtime: Runtime, workspace: Workspace, owner: ProvisionOwner
) -> Provisioned:
    """Make sure the owner holds the workspace, or holds the one link that hands it to them.

    A pending owner invite is replaced on every call, so a retried request still gets a link.
    """
    owners = await _owner_ids(session, workspace.id)
    if owners:
        await provision(runtime, workspace, owner=owners[0])
        return Provisioned(workspace=await internal_view(session, workspace))
    owner_id = await _owner_id(runtime, owner)
    if owner_id is not None:
        await admit(session, runtime, workspace, user_id=owner_id, role=OWNER, invited_by=None)
        return Provisioned(workspace=await internal_view(session, workspace))
    await session.execute(
        delete(Invite).where(Invite.workspace_id == workspace.id, Invite.role == OWNER)
    )
    invite = await issue(
        session,
        runtime,
        workspace,
        role=OWNER,
        email=str(owner.email) if owner.email is not None else None,
        phone=owner.phone,
        max_uses=1,
        days=OWNER_INVITE_DAYS,
        actor=None,
    )
    return Provisioned(workspace=await internal_view(session, workspace), owner_invite=invite)


async def provision_workspace(
    session: AsyncSession, runtime: Runtime, *, body: ProvisionRequest
) -> tuple[Provisioned, bool]:
    """Create the workspace named by the slug (True), or complete the existing one (False)."""
    query = select(Workspace).where(Workspace.slug == body.slug)
    found = await session.scalar(query)
    if found is None:
        workspace = _new_workspace(body)
        if await insert(session, workspace):
            await announce(
                session,
                runtime,
                events.WorkspaceCreated,
                workspace,
                actor=None,
                name=workspace.name,
                retention_days=workspace.retention_days,
            )
            return await _settle_owner(session, runtime, workspace, body.owner), True
        # A simultaneous request made it; a locking read sees it under REPEATABLE READ too.
        found = await session.scalar(
            query.with_for_update(read=True).execution_options(populate_existing=True)
        )
    if found is None or found.tenant != body.tenant:
        raise slug_taken(body.slug)
    return await _settle_owner(session, runtime, found, body.owner), False


def _new_workspace(body: ProvisionRequest) -> Workspace:
    return Workspace(
        tenant=body.tenant,
        name=body.name,
        slug=body.slug,
        created_by=None,
        member_count=0,
        **body.settings.model_dump(),
        **body.quotas.model_dump(),
    )


async def update_by_slug(
    session: AsyncSession, runtime: Runtime, *, slug: str, body: ProvisionUpdate
) -> WorkspaceInternal:
    workspace = await by_slug(session, slug)
    await apply_changes(session, runtime, workspace, changes=body.changes(), actor=None)
    return await internal_view(session, workspace)


async def delete_by_slug(session: AsyncSession, runtime: Runtime, *, slug: str) -> None:
    await remove(session, runtime, await by_slug(session, slug), actor=None)


async def export(session: AsyncSession, runtime: Runtime, *, slug: str) -> Export:
    """The workspace, every member and every channel, as JSON."""
    workspace = await by_slug(session, slug)
    query = (
        select(Member)
        .where(Member.workspace_id == workspace.id)
        .order_by(Member.joined_at, Member.user_id)
    )
    rows = (await session.scalars(query)).all()
    members = await user_client.with_names(runtime, MemberPublic, rows)
    return Export(
        workspace=await internal_view(session, workspace),
        members=members,
        channels=await channel_client.workspace_channels(runtime.http, workspace.id),
    )
