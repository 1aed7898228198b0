"""The media service's public API (the gateway's /api/v1/media/...): thin routes over `logic`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from quckchat.core.deps import CurrentUser, RuntimeDep
from quckchat.core.errors import problem_docs
from quckchat.core.values import ID_PATTERN
from quckchat.file.client import FileCreated
from quckchat.media import logic
from quckchat.media.schemas import MediaPublic, MediaUpload, RenditionName, RenditionUrl

# At the root: the gateway serves this under /api/v1/media.
router = APIRouter(tags=["media"])

FileId = Annotated[str, Path(pattern=ID_PATTERN)]
ONE = "/{file_id}"

PROBLEMS = {
    401: "no valid access token",
    403: "only the uploader or a workspace admin may do this",
    404: "no such file or rendition, or not one the caller may see",
    409: "the storage quota is full",
    413: "the file is larger than the workspace takes",
    415: "the workspace does not take files of this type",
    422: "a field is not valid (the media service uploads images and video only)",
}


def _problems(*codes: int) -> dict[int | str, Any]:
    return problem_docs(*codes, described=PROBLEMS)


@router.post(
    "/",
    response_model=FileCreated,
    status_code=status.HTTP_201_CREATED,
    responses=_problems(404, 409, 413, 415),
)
async def upload(body: MediaUpload, runtime: RuntimeDep, user: CurrentUser) -> FileCreated:
    """Start an upload of an image or a video: the file service's plan (send the bytes, then
    complete it at /files/{id}/complete); its previews follow once it is ready."""
    return await logic.upload(runtime, user, body)


@router.get(ONE, response_model=MediaPublic, responses=_problems(404))
async def get_media(file_id: FileId, runtime: RuntimeDep, user: CurrentUser) -> MediaPublic:
    """A file's previews and what was learnt from it (`pending` until it is processed)."""
    return await logic.get(runtime, user, file_id)


@router.post(ONE + "/renditions/{name}/url", response_model=RenditionUrl, responses=_problems(404))
async def rendition_url(
    file_id: FileId, name: RenditionName, runtime: RuntimeDep, user: CurrentUser
) -> RenditionUrl:
    """A short-lived URL that fetches one rendition from the object store."""
    return await logic.rendition_url(runtime, user, file_id, name)


@router.delete(ONE, status_code=status.HTTP_204_NO_CONTENT, responses=_problems(403, 404))
async def drop_renditions(file_id: FileId, runtime: RuntimeDep, user: CurrentUser) -> None:
    """Delete the file's renditions (its uploader or a workspace admin); the file stays."""
    await logic.drop(runtime, user, file_id)
