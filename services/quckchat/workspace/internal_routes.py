"""The workspace service's internal API: memberships, quotas and storage use for services, the
list of every workspace, provisioning for the operator (by slug, so a repeated request finds
what the first one made)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from quckchat.core.deps import InternalCaller, RuntimeDep, SessionDep, answer_repeat
from quckchat.core.errors import problem_docs
from quckchat.core.pagination import MAX_LIMIT
from quckchat.permission.client import UserId
from quckchat.workspace import internal, storage
from quckchat.workspace.schemas import (
    CHANGE_ID_PATTERN,
    ENTITY_ID_PATTERN,
    SLUG_PATTERN,
    Export,
    MembershipInternal,
    Provisioned,
    ProvisionRequest,
    ProvisionUpdate,
    QuotaInternal,
    StorageChangeRequest,
    StorageUsage,
    UserWorkspace,
    WorkspaceBatch,
    WorkspaceInternal,
)

router = APIRouter(prefix="/internal", tags=["internal"])

WorkspaceId = Annotated[str, Path(pattern=ENTITY_ID_PATTERN)]
SlugPath = Annotated[str, Path(pattern=SLUG_PATTERN)]
UserPath = Annotated[UserId, Path()]
ChangeId = Annotated[str, Path(pattern=CHANGE_ID_PATTERN)]
AfterId = Annotated[str | None, Query(pattern=ENTITY_ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
STORAGE = "/workspaces/{workspace_id}/storage"


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
    answer_repeat(response, created)
    return result


@router.get("/workspaces", response_model=WorkspaceBatch, responses=problem_docs())
async def list_workspaces(
    session: SessionDep, _caller: InternalCaller, after_id: AfterId = None, limit: Limit = 200
) -> WorkspaceBatch:
    """Every workspace in id order, a batch at a time; the next starts after `next_after_id`."""
    return await internal.list_workspaces(session, after_id=after_id, limit=limit)


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
    """The workspace's quotas and what is used of them."""
    return await internal.quota(session, workspace_id=workspace_id)


@router.put(
    STORAGE + "/reservations/{reservation_id}",
    response_model=StorageUsage,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "made before: nothing changed"}, **problem_docs(404, 409)},
)
async def reserve_storage(
    workspace_id: WorkspaceId,
    reservation_id: ChangeId,
    body: StorageChangeRequest,
    session: SessionDep,
    _caller: InternalCaller,
    response: Response,
) -> StorageUsage:
    """Count the bytes in before keeping them; 409 `storage-quota-exceeded` when they do not
    fit. The same reservation again changes nothing (200)."""
    usage, first = await storage.reserve(
        session, workspace_id=workspace_id, reservation_id=reservation_id, size=body.bytes
    )
    answer_repeat(response, first)
    return usage


@router.put(
    STORAGE + "/releases/{release_id}",
    response_model=StorageUsage,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "made before: nothing changed"}, **problem_docs(404, 409)},
)
async def release_storage(
    workspace_id: WorkspaceId,
    release_id: ChangeId,
    body: StorageChangeRequest,
    session: SessionDep,
    _caller: InternalCaller,
    response: Response,
) -> StorageUsage:
    """Count the bytes out once they are gone (never below 0). The same release again changes
    nothing (200)."""
    usage, first = await storage.release(
        session, workspace_id=workspace_id, release_id=release_id, size=body.bytes
    )
    answer_repeat(response, first)
    return usage


@router.get(
    "/users/{user_id}/workspaces", response_model=list[UserWorkspace], responses=problem_docs()
)
async def user_workspaces(
    user_id: UserPath, session: SessionDep, _caller: InternalCaller
) -> list[UserWorkspace]:
    return await internal.user_workspaces(session, user_id=user_id)
