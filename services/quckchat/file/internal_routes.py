"""The file service's internal API, for the services that attach, process and deliver files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from quckchat.core.deps import InternalCaller, RuntimeDep
from quckchat.core.errors import problem_docs
from quckchat.core.tokens import Principal
from quckchat.core.values import ID_PATTERN
from quckchat.file import logic, policy
from quckchat.file.routes import PROBLEMS
from quckchat.file.schemas import FileCreated, FileLookup, FileRecord, Policy, UploadFor

router = APIRouter(prefix="/internal/files", tags=["internal"])

FileId = Annotated[str, Path(pattern=ID_PATTERN)]
WorkspaceId = Annotated[str, Path(pattern=ID_PATTERN)]


@router.post("/lookup", response_model=list[FileRecord])
async def lookup_files(
    body: FileLookup, runtime: RuntimeDep, _caller: InternalCaller
) -> list[FileRecord]:
    """The files of these ids that exist, in any state (deleted ones too)."""
    return await logic.lookup(runtime, body.ids)


@router.get("/policies/{workspace_id}", response_model=Policy)
async def workspace_policy(
    workspace_id: WorkspaceId, runtime: RuntimeDep, _caller: InternalCaller
) -> Policy:
    """The workspace's limits on files (the defaults where it never set them)."""
    return await policy.policy_of(runtime, workspace_id)


@router.post(
    "/uploads",
    response_model=FileCreated,
    status_code=status.HTTP_201_CREATED,
    responses=problem_docs(404, 409, 413, 415, described=PROBLEMS),
)
async def start_upload_for(
    body: UploadFor, runtime: RuntimeDep, _caller: InternalCaller
) -> FileCreated:
    """Start an upload for a user, as the public `POST /` does for the user themselves: the
    workspace's membership, limits and quota apply to them."""
    uploader = Principal(user_id=body.uploader_id, session_id="", tenant=body.tenant)
    return await logic.create(runtime, uploader, body.file)


@router.delete("/{file_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_docs(404))
async def release_file(file_id: FileId, runtime: RuntimeDep, _caller: InternalCaller) -> None:
    """Delete a file nothing uses any more (its bytes and quota given back); again: nothing."""
    await logic.release(runtime, file_id)
