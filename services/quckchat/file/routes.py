"""The file service's public API (the gateway's /api/v1/files/...): thin routes over `logic`,
`tus` and, for the local object store, the signed uploads it takes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from quckchat.core.deps import CurrentUser, RuntimeDep
from quckchat.core.errors import Problem, problem_docs
from quckchat.core.objects import LocalObjects, ObjectMissing, SignatureRejected
from quckchat.core.pagination import Page, Paging
from quckchat.core.runtime import Runtime
from quckchat.core.values import ID_PATTERN
from quckchat.file import logic, policy, tus
from quckchat.file.schemas import (
    Completion,
    FileCreate,
    FileCreated,
    FilePublic,
    Policy,
    PolicyUpdate,
    UploadPlan,
)
from quckchat.workspace import client as workspace_client

# At the root: the gateway serves this under /api/v1/files.
router = APIRouter(tags=["files"])

FileId = Annotated[str, Path(pattern=ID_PATTERN)]
WorkspaceId = Annotated[str, Path(pattern=ID_PATTERN)]
ONE = "/{file_id}"
DEFAULT_TYPE = "application/octet-stream"

PROBLEMS = {
    400: "the cursor is not one this API issued",
    401: "no valid access token",
    403: "only a workspace admin may do this",
    404: "no such file or workspace, or not one the caller may see",
    409: "the storage quota is full, or the upload is not in (or already finished)",
    413: "the file is larger than the workspace takes",
    415: "the workspace does not take files of this type",
    422: "a field is not valid, or the bytes that arrived differ from what was declared",
}


def _problems(*codes: int) -> dict[int | str, Any]:
    return problem_docs(*codes, described=PROBLEMS)


def _local_objects(runtime: Runtime, what: str) -> LocalObjects:
    """The local object store, whose signed URLs this service serves; 404 with an S3 server."""
    if not isinstance(runtime.objects, LocalObjects):
        raise Problem(404, f"{what} go to the object store's own URLs here")
    return runtime.objects


@router.post(
    "/",
    response_model=FileCreated,
    status_code=status.HTTP_201_CREATED,
    responses=_problems(404, 409, 413, 415),
)
async def create_file(body: FileCreate, runtime: RuntimeDep, user: CurrentUser) -> FileCreated:
    """Start an upload: the bytes are counted against the workspace's quota now (409 when they
    do not fit), and the answer says where to send them."""
    return await logic.create(runtime, user, body)


@router.get("/", response_model=Page[FilePublic], responses=_problems(400))
async def list_files(
    runtime: RuntimeDep,
    user: CurrentUser,
    paging: Paging,
    workspace_id: Annotated[str, Query(pattern=ID_PATTERN)],
) -> Page[FilePublic]:
    """The caller's files in a workspace, newest first."""
    return await logic.list_mine(runtime, user, workspace_id, paging)


@router.get("/policies/{workspace_id}", response_model=Policy, responses=_problems(404))
async def get_policy(workspace_id: WorkspaceId, runtime: RuntimeDep, user: CurrentUser) -> Policy:
    """The workspace's limits on files (any member may read them)."""
    await workspace_client.member_role(runtime.http, workspace_id, user.user_id)
    return await policy.policy_of(runtime, workspace_id)


@router.patch("/policies/{workspace_id}", response_model=Policy, responses=_problems(403, 404))
async def change_policy(
    workspace_id: WorkspaceId, body: PolicyUpdate, runtime: RuntimeDep, user: CurrentUser
) -> Policy:
    """Change the workspace's limits on files (owners and admins)."""
    role = await workspace_client.member_role(runtime.http, workspace_id, user.user_id)
    if role not in workspace_client.ADMINS:
        raise Problem(403, "only a workspace owner or admin changes its file limits")
    return await policy.change_policy(runtime, workspace_id, body)


@router.put(
    "/objects/{key:path}",
    status_code=status.HTTP_200_OK,
    responses=problem_docs(403, 404),
    include_in_schema=False,
)
async def take_signed_upload(
    key: str, request: Request, runtime: RuntimeDep, content_type: Annotated[str, Header()] = ""
) -> Response:
    """What a client sends to a URL the local object store signed (no S3 server configured)."""
    local = _local_objects(runtime, "uploads")
    query = dict(request.query_params)
    try:
        size = local.verify(key, query)
    except SignatureRejected as exc:
        raise Problem(403, str(exc), slug="signature-rejected") from exc
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > size:  # read no more than was signed for
            raise Problem(403, f"more than the {size} bytes signed for", slug="signature-rejected")
    try:
        taken = await local.accept_signed_put(key, query, content_type, bytes(body))
    except SignatureRejected as exc:
        raise Problem(403, str(exc), slug="signature-rejected") from exc
    except ObjectMissing as exc:
        raise Problem(404, "no such upload", slug="no-such-upload") from exc
    return Response(status_code=200, headers={"ETag": f'"{taken.etag}"'})


@router.get(
    "/objects/{key:path}",
    responses=problem_docs(403, 404),
    include_in_schema=False,
)
async def serve_signed_download(key: str, request: Request, runtime: RuntimeDep) -> Response:
    """What a client fetches from a URL the local object store signed for reading (previews)."""
    local = _local_objects(runtime, "downloads")
    query = dict(request.query_params)
    try:
        info = await local.open_signed_get(key, query)
    except SignatureRejected as exc:
        raise Problem(403, str(exc), slug="signature-rejected") from exc
    except ObjectMissing as exc:
        raise Problem(404, "no such object", slug="no-such-object") from exc
    headers = {"Content-Length": str(info.size), "ETag": f'"{info.etag}"'}
    return StreamingResponse(
        local.stream(key), media_type=info.content_type or DEFAULT_TYPE, headers=headers
    )


@router.get(ONE, response_model=FilePublic, responses=_problems(404))
async def get_file(file_id: FileId, runtime: RuntimeDep, user: CurrentUser) -> FilePublic:
    """A file, to its uploader or an admin of its workspace."""
    return await logic.get(runtime, user, file_id)


@router.post(ONE + "/upload", response_model=UploadPlan, responses=_problems(404, 409))
async def renew_upload(file_id: FileId, runtime: RuntimeDep, user: CurrentUser) -> UploadPlan:
    """Fresh URLs for an upload whose earlier ones expired."""
    return await logic.plan_again(runtime, user, file_id)


@router.post(ONE + "/complete", response_model=FilePublic, responses=_problems(404, 409, 415))
async def complete_upload(
    file_id: FileId, runtime: RuntimeDep, user: CurrentUser, body: Completion | None = None
) -> FilePublic:
    """The bytes are sent: they are checked (type, size, SHA-256, malware) and the file is
    `clean`, `infected` (quarantined), or `scanning` while the scanner is away."""
    return await logic.complete(runtime, user, file_id, body or Completion())


@router.delete(ONE, status_code=status.HTTP_204_NO_CONTENT, responses=_problems(404))
async def delete_file(file_id: FileId, runtime: RuntimeDep, user: CurrentUser) -> None:
    """Delete a file (its uploader or a workspace admin): its bytes and quota are given back."""
    await logic.delete(runtime, user, file_id)


router.include_router(tus.router)
