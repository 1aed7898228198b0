"""The workspace service's internal API: memberships and quotas for services, provisioning
for the operator (by slug, so a repeated request finds what the first one made)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from quckchat.core.deps import InternalCaller, RuntimeDep, SessionDep
from quckchat.core.errors import problem_docs
from quckchat.permission.schemas import UserId
from quckchat.workspace import internal
from quckchat.workspace.schemas import (
    ENTITY_ID_PATTERN,
    SLUG_PATTERN,
    Export,
    MembershipInternal,
    Provisioned,
    ProvisionRequest,
    ProvisionUpdate,
    QuotaInternal,
    UserWorkspace,
    WorkspaceInternal,
)

router = APIRouter(prefix="/internal", tags=["internal"])

WorkspaceId = Annotated[str, Path(pattern=ENTITY_ID_PATTERN)]
SlugPath = Annotated[str, Path(pattern=SLUG_PATTERN)]
UserPath = Annotated[UserId, Path()]


@router.post(
    "/workspaces",
    response_model=Provisioned,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "the workspace of that slug"}, **problem_docs(409)},
)
async def provision(
    body: ProvisionRequest,
    session: SessionDep,
    runtime: RuntimeDep,
    _caller: InternalCaller,
    response: Response,
) -> Provisioned:
    """Create a workspace with its owner, quotas and settings; again with the slug: 200."""
    result, created = await internal.provision_workspace(session, runtime, body=body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.get(
    "/workspaces/by-slug/{slug}", response_model=WorkspaceInternal, responses=problem_docs(404)
)
async def get_by_slug(
    slug: SlugPath, session: SessionDep, _caller: InternalCaller
) -> WorkspaceInternal:
    return await internal.internal_view(session, await internal.by_slug(session, slug))


@router.patch(
    "/workspaces/by-slug/{slug}", response_model=WorkspaceInternal, responses=problem_docs(404)
)
async def update_by_slug(
    slug: SlugPath,
    body: ProvisionUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    _caller: InternalCaller,
) -> WorkspaceInternal:
    """Apply the spec's name, quotas and settings."""
    return await internal.update_by_slug(session, runtime, slug=slug, body=body)


@router.delete(
    "/workspaces/by-slug/{slug}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_docs(404),
)
async def delete_by_slug(
    slug: SlugPath, session: SessionDep, runtime: RuntimeDep, _caller: InternalCaller
) -> None:
    await internal.delete_by_slug(session, runtime, slug=slug)


@router.post(
    "/workspaces/by-slug/{slug}/export", response_model=Export, responses=problem_docs(404)
)
async def export(
    slug: SlugPath, session: SessionDep, runtime: RuntimeDep, _caller: InternalCaller
) -> Export:
    """The workspace, its members and its channels as one JSON document."""
    return await internal.export(session, runtime, slug=slug)


@router.get(
    "/workspaces/{workspace_id}/members/{user_id}",
    response_model=MembershipInternal,
    responses=problem_docs(404),
)
async def membership(
    workspace_id: WorkspaceId, user_id: UserPath, session: SessionDep, _caller: InternalCaller
) -> MembershipInternal:
    """The user's role in the workspace; 404 when they are not in it."""
    return await internal.membership(session, workspace_id=workspace_id, user_id=user_id)


@router.get(
    "/workspaces/{workspace_id}/quota", response_model=QuotaInternal, responses=problem_docs(404)
)
async def quota(
    workspace_id: WorkspaceId, session: SessionDep, _caller: InternalCaller
) -> QuotaInternal:
    """The workspace's quotas, for the services that enforce them (storage)."""
    return await internal.quota(session, workspace_id=workspace_id)


@router.get(
    "/users/{user_id}/workspaces", response_model=list[UserWorkspace], responses=problem_docs()
)
async def user_workspaces(
    user_id: UserPath, session: SessionDep, _caller: InternalCaller
) -> list[UserWorkspace]:
    return await internal.user_workspaces(session, user_id=user_id)
