"""The workspace service's public API (the gateway's /api/v1/workspaces/...): thin routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from quckchat.core.deps import CurrentUser, RuntimeDep, SessionDep, answer_repeat
from quckchat.core.errors import problem_docs
from quckchat.core.member_routes import member_routes
from quckchat.core.pagination import Page, Paging
from quckchat.permission.client import UserId
from quckchat.workspace import invites, logic, members
from quckchat.workspace.schemas import (
    ENTITY_ID_PATTERN,
    InviteCreate,
    InviteCreated,
    InvitePreview,
    InvitePublic,
    JoinRequest,
    MemberPublic,
    RoleUpdate,
    WorkspaceCreate,
    WorkspacePublic,
    WorkspaceUpdate,
)

router = APIRouter(tags=["workspaces"])


WorkspaceId = Annotated[str, Path(pattern=ENTITY_ID_PATTERN)]
InviteId = Annotated[str, Path(pattern=ENTITY_ID_PATTERN)]
MemberId = Annotated[UserId, Path()]
ONE = "/{workspace_id}"


@router.post(
    "/",
    response_model=WorkspacePublic,
    status_code=status.HTTP_201_CREATED,
    responses=problem_docs(409),
)
async def create_workspace(
    body: WorkspaceCreate, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> WorkspacePublic:
    """A new workspace: the caller its owner, with #general and #random."""
    return await logic.create(session, runtime, principal=user, body=body)


@router.get("/", response_model=list[WorkspacePublic], responses=problem_docs())
async def list_workspaces(session: SessionDep, user: CurrentUser) -> list[WorkspacePublic]:
    """The caller's workspaces."""
    return await logic.list_mine(session, principal=user)


@router.post(
    "/join",
    response_model=MemberPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "already a member"}, **problem_docs(404, 409, 410)},
)
async def join_workspace(
    body: JoinRequest,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    response: Response,
) -> MemberPublic:
    """Join the workspace of an invite token."""
    member, created = await invites.join(session, runtime, principal=user, token=body.token)
    answer_repeat(response, created)
    return member


@router.get(
    "/invites/{token}",
    response_model=InvitePreview,
    responses=problem_docs(404, 410),
    openapi_extra={"security": []},
)
async def preview_invite(
    token: Annotated[str, Path(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")],
    session: SessionDep,
    runtime: RuntimeDep,
) -> InvitePreview:
    """What an invite leads to: the workspace, who invited, until when. No sign-in needed."""
    return await invites.preview(session, runtime, token=token)


@router.get(ONE, response_model=WorkspacePublic, responses=problem_docs(404))
async def get_workspace(
    workspace_id: WorkspaceId, session: SessionDep, user: CurrentUser
) -> WorkspacePublic:
    return await logic.get(session, principal=user, workspace_id=workspace_id)


@router.patch(ONE, response_model=WorkspacePublic, responses=problem_docs(403, 404))
async def update_workspace(
    workspace_id: WorkspaceId,
    body: WorkspaceUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> WorkspacePublic:
    """Rename (owners), or change retention and guest settings (owners and admins)."""
    return await logic.update(
        session, runtime, principal=user, workspace_id=workspace_id, body=body
    )


@router.delete(ONE, status_code=status.HTTP_204_NO_CONTENT, responses=problem_docs(403, 404))
async def delete_workspace(
    workspace_id: WorkspaceId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> None:
    """Delete the workspace with its members and invites (owners only)."""
    await logic.delete_workspace(session, runtime, principal=user, workspace_id=workspace_id)


router.include_router(
    member_routes(
        scope="workspace",
        id_pattern=ENTITY_ID_PATTERN,
        user_id=UserId,
        book=members,
        member=MemberPublic,
        role_update=RoleUpdate,
        list_problems=(400, 403, 404),
        remove_summary="Remove a member (owners and admins) or leave; the last owner stays.",
    )
)


@router.post(
    ONE + "/invites",
    response_model=InviteCreated,
    status_code=status.HTTP_201_CREATED,
    responses=problem_docs(403, 404, 409),
)
async def create_invite(
    workspace_id: WorkspaceId,
    body: InviteCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> InviteCreated:
    """Invite by email, phone or a shareable link; the token is shown only here."""
    return await invites.create(
        session, runtime, principal=user, workspace_id=workspace_id, body=body
    )


@router.get(
    ONE + "/invites", response_model=Page[InvitePublic], responses=problem_docs(400, 403, 404)
)
async def list_invites(
    workspace_id: WorkspaceId,
    query: Paging,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> Page[InvitePublic]:
    return await invites.list_invites(
        session,
        runtime,
        principal=user,
        workspace_id=workspace_id,
        paging=query,
    )


@router.delete(
    ONE + "/invites/{invite_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_docs(403, 404),
)
async def revoke_invite(
    workspace_id: WorkspaceId,
    invite_id: InviteId,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> None:
    await invites.revoke(
        session, runtime, principal=user, workspace_id=workspace_id, invite_id=invite_id
    )
