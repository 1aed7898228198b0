"""Invites: a join token for one verified email or phone, or an open link with a use limit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.core.errors import Problem, not_found
from quckchat.core.outbox import announce
from quckchat.core.pagination import Page, PageQuery, parse_datetime, read_page
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from quckchat.core.sql import utcnow
from quckchat.core.tokens import Principal
from quckchat.user import client as user_client
from quckchat.workspace import events
from quckchat.workspace.logic import (
    admit,
    quota_exceeded,
    require,
    visible,
)
from quckchat.workspace.members import guests_refused, member_view
from quckchat.workspace.models import (
    EMAIL_INVITE,
    GUEST,
    LINK_INVITE,
    PHONE_INVITE,
    Invite,
    Member,
    Workspace,
)
from quckchat.workspace.schemas import (
    InviteCreate,
    InviteCreated,
    InvitePreview,
    InvitePublic,
    MemberPublic,
)

OWNER_INVITE_DAYS = 30


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def join_url(settings: Settings, token: str) -> str:
    """The link people open to join: the public origin the gateway is reached at."""
    return f"{settings.public_origin()}/join/{token}"


def invite_view(invite: Invite) -> InvitePublic:
    return InvitePublic.model_validate(invite, from_attributes=True)


async def issue(
    session: AsyncSession,
    runtime: Runtime,
    workspace: Workspace,
    *,
    role: str,
    email: str | None,
    phone: str | None,
    max_uses: int,
    days: int,
    actor: str | None,
) -> InviteCreated:
    """Store a new invite (its token's hash only) and announce it to whoever delivers it."""
    token = secrets.token_urlsafe(24)
    email = email.lower() if email else None
    invite = Invite(
        workspace_id=workspace.id,
        token_hash=token_hash(token),
        kind=EMAIL_INVITE if email else PHONE_INVITE if phone else LINK_INVITE,
        email=email,
        phone=phone,
        role=role,
        max_uses=max_uses,
        uses=0,
        expires_at=utcnow() + timedelta(days=days),
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(invite)
    await session.flush()
    url = join_url(runtime.settings, token)
    delivery = {"email": email, "phone": phone, "url": url} if email or phone else None
    await announce(
        session,
        runtime,
        events.InviteCreated,
        workspace,
        actor=actor,
        invite_id=invite.id,
        role=role,
        delivery=delivery,
        workspace_name=workspace.name,
    )
    return InviteCreated(**invite_view(invite).model_dump(), token=token, url=url)


async def create(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    workspace_id: str,
    body: InviteCreate,
) -> InviteCreated:
    """Invite someone as a member or guest (owners and admins), within the member quota."""
    me = principal.user_id
    workspace, _ = await visible(session, principal=principal, workspace_id=workspace_id)
    await require(runtime, workspace, user_id=me, obj="members", action="manage")
    if body.role == GUEST and not workspace.guests_allowed:
        raise guests_refused()
    if workspace.member_count >= workspace.max_members:
        raise quota_exceeded(workspace)
    return await issue(
        session,
        runtime,
        workspace,
        role=body.role,
        email=str(body.email) if body.email else None,
        phone=body.phone,
        max_uses=body.max_uses or 1,
        days=body.expires_in_days,
        actor=me,
    )


async def list_invites(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    workspace_id: str,
    paging: PageQuery,
) -> Page[InvitePublic]:
    """The workspace's invites, newest first (owners and admins)."""
    workspace, _ = await visible(session, principal=principal, workspace_id=workspace_id)
    await require(runtime, workspace, user_id=principal.user_id, obj="members", action="manage")
    query: Select[Any] = select(Invite).where(Invite.workspace_id == workspace_id)
    rows, next_cursor = await read_page(
        session,
        query,
        Invite.created_at,
        Invite.id,
        paging=paging,
        parse=parse_datetime,
    )
    return Page[InvitePublic](items=[invite_view(i) for i in rows], next_cursor=next_cursor)


async def revoke(
    session: AsyncSession,
    runtime: Runtime,
    *,
    principal: Principal,
    workspace_id: str,
    invite_id: str,
) -> None:
    workspace, _ = await visible(session, principal=principal, workspace_id=workspace_id)
    await require(runtime, workspace, user_id=principal.user_id, obj="members", action="manage")
    invite = await session.get(Invite, invite_id)
    if invite is None or invite.workspace_id != workspace_id:
        raise not_found("invite")
    await session.delete(invite)


async def _find(session: AsyncSession, *, token: str, tenant: str) -> tuple[Invite, Workspace]:
    """The invite and its workspace; 404 when unknown or another tenant's."""
    invite = await session.scalar(select(Invite).where(Invite.token_hash == token_hash(token)))
    workspace = await session.get(Workspace, invite.workspace_id) if invite is not None else None
    if invite is None or workspace is None or workspace.tenant != tenant:
        raise not_found("invite")
    return invite, workspace


async def preview(session: AsyncSession, runtime: Runtime, *, token: str) -> InvitePreview:
    """What the invite leads to; 404 unknown, 410 expired or used up."""
    invite = await session.scalar(select(Invite).where(Invite.token_hash == token_hash(token)))
    workspace = await session.get(Workspace, invite.workspace_id) if invite is not None else None
    if invite is None or workspace is None:
        raise not_found("invite")
    used_up = invite.max_uses is not None and invite.uses >= invite.max_uses
    if used_up or invite.expires_at <= utcnow():
        raise _spent()
    return InvitePreview(
        workspace_id=workspace.id,
        workspace_name=workspace.name,
        kind=invite.kind,
        role=invite.role,
        invited_by=invite.created_by,
        invited_by_name=await _display_name(runtime, invite.created_by),
        expires_at=invite.expires_at,
        uses_left=None if invite.max_uses is None else invite.max_uses - invite.uses,
    )


async def _display_name(runtime: Runtime, user_id: str | None) -> str | None:
    """The user's display name; None without one, or while the user service cannot say."""
    if user_id is None:
        return None
    try:
        profile = await user_client.profile(runtime.http, user_id)
    except Problem:
        return None
    name = profile.get("display_name") if profile else None
    return name if isinstance(name, str) else None


def _check_invitee(invite: Invite, principal: Principal) -> None:
    """A person's invite admits only the user verified at its address; nothing else changes."""
    if invite.kind == EMAIL_INVITE:
        ok = invite.email is not None and principal.verified_email == invite.email.lower()
    elif invite.kind == PHONE_INVITE:
        ok = invite.phone is not None and principal.verified_phone == invite.phone
    else:
        ok = True
    if not ok:
        raise Problem(
            403,
            f"this invite is for one {invite.kind}; sign in with that verified {invite.kind} "
            "to use it",
            slug="invite-not-for-you",
        )


def _spent() -> Problem:
    return Problem(410, "this invite has expired or been used up", slug="invite-expired")


async def _use(session: AsyncSession, invite: Invite) -> None:
    """Count one use; a concurrent last use wins once (the update matches no row)."""
    query = update(Invite).where(Invite.id == invite.id)
    if invite.max_uses is not None:
        query = query.where(Invite.uses < invite.max_uses)
    result = await session.execute(query.values(uses=Invite.uses + 1))
    if getattr(result, "rowcount", 1) == 0:
        raise _spent()


async def join(
    session: AsyncSession, runtime: Runtime, *, principal: Principal, token: str
) -> tuple[MemberPublic, bool]:
    """Join the workspace of an invite (201) in its role; already a member: 200, invite kept."""
    me = principal.user_id
    invite, workspace = await _find(session, token=token, tenant=principal.tenant)
    _check_invitee(invite, principal)
    existing = await session.get(Member, (workspace.id, me))
    # A retried join (its answer lost) finds the member, whatever the token's state now.
    if existing is not None:
        return await member_view(runtime, existing), False
    if invite.expires_at <= utcnow():
        raise _spent()
    if invite.role == GUEST and not workspace.guests_allowed:
        raise guests_refused()
    await _use(session, invite)
    # An owner invite exists only while a provisioned workspace awaits its first member.
    member, created = await admit(
        session, runtime, workspace, user_id=me, role=invite.role, invited_by=invite.created_by
    )
    return await member_view(runtime, member), created
