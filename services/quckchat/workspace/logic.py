"""Workspaces: create, see, list, change and delete them (keyword-only functions).

Rows change in the request's transaction; roles and default channels are set up in the
permission and channel services before it commits, so a failure there leaves no workspace row
(what those services made already names a workspace nobody can reach, and is redone on retry).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy import update as update_rows
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from quckchat.channel import client as channel_client
from quckchat.core.authz import is_allowed
from quckchat.core.errors import Problem, conflict, forbidden, not_found
from quckchat.core.outbox import announce
from quckchat.core.runtime import Runtime
from quckchat.core.sql import is_unique_violation, utcnow
from quckchat.core.tokens import Principal
from quckchat.permission import client as permission_client
from quckchat.workspace import events
from quckchat.workspace.models import GUEST, OWNER, Invite, Member, StorageChange, Workspace
from quckchat.workspace.schemas import (
    Quotas,
    Settings,
    WorkspaceCreate,
    WorkspacePublic,
    WorkspaceUpdate,
)


def view(workspace: Workspace, *, role: str | None) -> WorkspacePublic:
    return WorkspacePublic(
        id=workspace.id,
        name=workspace.name,
        slug=workspace.slug,
        created_by=workspace.created_by,
        created_at=workspace.created_at,
        updated_at=workspace.updated_at,
        settings=Settings.model_validate(workspace, from_attributes=True),
        quotas=Quotas.model_validate(workspace, from_attributes=True),
        member_count=workspace.member_count,
        role=role,
    )


def quota_exceeded(workspace: Workspace) -> Problem:
    return Problem(
        409,
        f"the workspace has reached its quota of {workspace.max_members} members",
        slug="quota-exceeded",
        quota="max_members",
        limit=workspace.max_members,
    )


# Each quota and the usage it bounds.
USAGE_OF = {"max_members": "member_count", "max_storage_bytes": "storage_used_bytes"}
_REMEDY = {
    "max_members": ("members", "remove members first"),
    "max_storage_bytes": ("bytes stored", "delete files first"),
}


def quota_below_usage(quota: str, limit: int, used: int) -> Problem:
    unit, remedy = _REMEDY[quota]
    return Problem(
        409,
        f"the workspace has {used} {unit}, more than a quota of {limit}; {remedy}",
        slug="quota-below-usage",
        quota=quota,
        limit=limit,
        used=used,
    )


async def set_quotas(session: AsyncSession, workspace: Workspace, quotas: dict[str, int]) -> None:
    """Write new quotas in one UPDATE that holds only while the usage fits under them, so a
    join or a storage reservation racing with a lowered quota can not end above it."""
    usage = [getattr(Workspace, USAGE_OF[q]) <= limit for q, limit in quotas.items()]
    now = utcnow()
    query = (
        update_rows(Workspace)
        .where(Workspace.id == workspace.id, *usage)
        .values(**quotas, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    # Usage that fell between the refused UPDATE and the read is no reason to refuse: again.
    while not getattr(await session.execute(query), "rowcount", 1):
        columns = [getattr(Workspace, column) for column in USAGE_OF.values()]
        current = (
            await session.execute(
                select(*columns).where(Workspace.id == workspace.id).with_for_update(read=True)
            )
        ).one_or_none()
        if current is None:
            raise not_found("workspace")
        used = dict(zip(USAGE_OF.values(), current, strict=True))
        for quota, limit in quotas.items():
            if used[USAGE_OF[quota]] > limit:
                raise quota_below_usage(quota, limit, used[USAGE_OF[quota]])
    for name, value in {**quotas, "updated_at": now}.items():
        set_committed_value(workspace, name, value)


async def seats(session: AsyncSession, workspace: Workspace, change: int) -> None:
    """Count members in or out in one guarded UPDATE: of two joiners for the last seat, one
    gets it and the other a 409 naming the quota, on every backend (no row lock needed)."""
    query = update_rows(Workspace).where(Workspace.id == workspace.id)
    if change > 0:
        query = query.where(Workspace.member_count + change <= Workspace.max_members)
    result = await session.execute(
        query.values(member_count=Workspace.member_count + change).execution_options(
            synchronize_session=False
        )
    )
    if getattr(result, "rowcount", 1) == 0:
        raise quota_exceeded(workspace)
    await session.refresh(workspace, ["member_count"])


async def visible(
    session: AsyncSession, *, principal: Principal, workspace_id: str
) -> tuple[Workspace, Member]:
    """The workspace and the caller's membership; 404 for anyone not in it."""
    workspace = await session.get(Workspace, workspace_id)
    member = await session.get(Member, (workspace_id, principal.user_id))
    if workspace is None or workspace.tenant != principal.tenant or member is None:
        raise not_found("workspace")
    return workspace, member


async def require(
    runtime: Runtime, workspace: Workspace, *, user_id: str, obj: str, action: str
) -> None:
    if not await is_allowed(
        runtime, subject=user_id, object=obj, action=action, tenant=workspace.id
    ):
        raise forbidden(f"you may not {action} the {obj} of this workspace")


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50].strip("-")
    return slug or "workspace"


async def free_slug(session: AsyncSession, name: str) -> str:
    """A slug from the name, with a random suffix when the plain one is taken."""
    slug = slugify(name)
    while await session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None:
        slug = f"{slugify(name)}-{secrets.token_hex(3)}"
    return slug


def slug_taken(slug: str) -> Problem:
    return conflict(f"the slug {slug} is taken", slug="slug-taken")


async def insert(session: AsyncSession, workspace: Workspace) -> bool:
    """Insert the workspace; False when its slug is taken (perhaps a moment ago)."""
    try:
        async with session.begin_nested():
            session.add(workspace)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        return False
    return True


async def provision(runtime: Runtime, workspace: Workspace, *, owner: str) -> None:
    """The owner's role and the default channels; each step is a no-op when already done."""
    await permission_client.assign_role(
        runtime.http, tenant=workspace.id, user_id=owner, role=OWNER, actor=owner
    )
    await channel_client.create_default_channels(
        runtime.http, workspace_id=workspace.id, tenant=workspace.tenant, owner=owner
    )


async def admit(
    session: AsyncSession,
    runtime: Runtime,
    workspace: Workspace,
    *,
    user_id: str,
    role: str,
    invited_by: str | None,
) -> tuple[Member, bool]:
    """Make the user a member within the quota (False: they were one already).

    The role goes to the permission service; an owner opens the default channels, everyone but
    a guest joins them; then the join is announced.
    """
    member = Member(
        workspace_id=workspace.id,
        user_id=user_id,
        role=role,
        invited_by=invited_by,
        joined_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(member)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        # A locking read sees the concurrent winner's row even under MySQL's REPEATABLE READ.
        query = (
            select(Member)
            .where(Member.workspace_id == workspace.id, Member.user_id == user_id)
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )
        return (await session.execute(query)).scalar_one(), False
    await seats(session, workspace, +1)
    if role == OWNER:
        await provision(runtime, workspace, owner=user_id)
    else:
        await permission_client.assign_role(
            runtime.http, tenant=workspace.id, user_id=user_id, role=role, actor=invited_by
        )
    # Guests see only the channels they are added to, not even #general.
    if role != GUEST:
        await channel_client.join_default_channels(
            runtime.http, workspace_id=workspace.id, user_id=user_id
        )
    await announce(
        session,
        runtime,
        events.MemberJoined,
        workspace,
        actor=invited_by or user_id,
        user_id=user_id,
        role=role,
    )
    return member, True


async def create(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, body: WorkspaceCreate
) -> WorkspacePublic:
    """A new workspace owned by the caller, with #general and #random."""
    me = principal.user_id
    workspace = Workspace(
        tenant=principal.tenant,
        name=body.name,
        slug=body.slug or await free_slug(session, body.name),
        created_by=me,
        member_count=0,
        **Settings().model_dump(),
        **Quotas().model_dump(),
    )
    if not await insert(session, workspace):
        raise slug_taken(workspace.slug)
    await announce(
        session,
        runtime,
        events.WorkspaceCreated,
        workspace,
        actor=me,
        name=workspace.name,
        retention_days=workspace.retention_days,
    )
    await admit(session, runtime, workspace, user_id=me, role=OWNER, invited_by=None)
    return view(workspace, role=OWNER)


async def list_mine(session: AsyncSession, *, principal: Principal) -> list[WorkspacePublic]:
    """The caller's workspaces (in their token's tenant), oldest first."""
    query = (
        select(Workspace, Member.role)
        .join(Member, Member.workspace_id == Workspace.id)
        .where(Member.user_id == principal.user_id, Workspace.tenant == principal.tenant)
        .order_by(Workspace.created_at, Workspace.id)
    )
    rows = (await session.execute(query)).all()
    return [view(w, role=role) for w, role in rows]


async def get(session: AsyncSession, *, principal: Principal, workspace_id: str) -> WorkspacePublic:
    workspace, member = await visible(session, principal=principal, workspace_id=workspace_id)
    return view(workspace, role=member.role)


async def apply_changes(
    session: AsyncSession,
    runtime: Runtime,
    workspace: Workspace,
    *,
    changes: dict[str, Any],
    actor: str | None,
) -> None:
    """Write the sent fields (nested settings and quotas flattened); announce what changed."""
    flat = {k: v for k, v in changes.items() if k not in ("settings", "quotas")}
    flat.update(changes.get("settings") or {})
    flat.update(changes.get("quotas") or {})
    changed = sorted(k for k, v in flat.items() if getattr(workspace, k) != v)
    if not changed:
        return
    quotas = {k: flat[k] for k in changed if k in USAGE_OF}
    if quotas:
        await set_quotas(session, workspace, quotas)
    for name in changed:
        if name not in quotas:
            setattr(workspace, name, flat[name])
    await session.flush()
    await announce(
        session,
        runtime,
        events.WorkspaceUpdated,
        workspace,
        actor=actor,
        changed=changed,
        **{k: flat[k] for k in changed},
    )


async def update(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    workspace_id: str,
    body: WorkspaceUpdate,
) -> WorkspacePublic:
    """Rename (owners) or change settings (owners and admins)."""
    me = principal.user_id
    workspace, member = await visible(session, principal=principal, workspace_id=workspace_id)
    changes = body.changes()
    if "name" in changes:
        await require(runtime, workspace, user_id=me, obj="workspace", action="write")
    if changes.get("settings"):
        await require(runtime, workspace, user_id=me, obj="settings", action="write")
    await apply_changes(session, runtime, workspace, changes=changes, actor=me)
    return view(workspace, role=member.role)


async def remove(
    session: AsyncSession, runtime: Runtime, workspace: Workspace, *, actor: str | None
) -> None:
    """Delete the workspace, its members, invites and storage keys; end the roles; channels
    follow the event."""
    members = list(
        (await session.scalars(select(Member).where(Member.workspace_id == workspace.id))).all()
    )
    await session.execute(delete(Invite).where(Invite.workspace_id == workspace.id))
    await session.execute(delete(StorageChange).where(StorageChange.workspace_id == workspace.id))
    await session.execute(delete(Member).where(Member.workspace_id == workspace.id))
    await session.delete(workspace)
    await session.flush()
    # Owners last: the permission service keeps the last one, which then names no workspace.
    for member in sorted(members, key=lambda m: m.role == OWNER):
        await permission_client.revoke_role(
            runtime.http,
            tenant=workspace.id,
            user_id=member.user_id,
            actor=actor,
            strict=False,
        )
    await announce(
        session, runtime, events.WorkspaceDeleted, workspace, actor=actor, slug=workspace.slug
    )


async def delete_workspace(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, workspace_id: str
) -> None:
    """Delete a workspace (owners only)."""
    workspace, _ = await visible(session, principal=principal, workspace_id=workspace_id)
    await require(runtime, workspace, user_id=principal.user_id, obj="workspace", action="delete")
    await remove(session, runtime, workspace, actor=principal.user_id)
