"""The tus 1.0.0 core protocol over a file created with `method: tus`: HEAD says how much
arrived, PATCH adds a chunk at that offset, OPTIONS says what this server speaks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response, status

from quckchat.core.deps import CurrentUser, RuntimeDep
from quckchat.core.errors import Problem, problem_docs
from quckchat.core.values import ID_PATTERN
from quckchat.file import logic, uploads
from quckchat.file.schemas import MAX_FILE_BYTES

router = APIRouter()

VERSION = "1.0.0"
CHUNK_TYPE = "application/offset+octet-stream"
# One PATCH's body at the most; clients send more in several.
MAX_CHUNK = 64 * 1024**2
TUS = "/{file_id}/tus"
FileId = Annotated[str, Path(pattern=ID_PATTERN)]


def _headers(**more: int | str) -> dict[str, str]:
    values = {"Tus-Resumable": VERSION, "Cache-Control": "no-store", **more}
    return {name.replace("_", "-"): str(value) for name, value in values.items()}


def _speaks(version: str | None) -> None:
    if version is not None and version != VERSION:
        raise Problem(
            412,
            f"this server speaks tus {VERSION}",
            slug="tus-version",
            headers={"Tus-Version": VERSION},
        )


@router.options(TUS, status_code=status.HTTP_204_NO_CONTENT, include_in_schema=False)
async def tus_options(file_id: FileId) -> Response:
    return Response(
        status_code=204,
        headers=_headers(Tus_Version=VERSION, Tus_Max_Size=MAX_FILE_BYTES),
    )


@router.head(TUS, responses=problem_docs(404), include_in_schema=False)
async def tus_head(
    file_id: FileId,
    runtime: RuntimeDep,
    user: CurrentUser,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    _speaks(tus_resumable)
    received, size = await logic.tus_offset(runtime, user, file_id)
    return Response(status_code=200, headers=_headers(Upload_Offset=received, Upload_Length=size))


@router.patch(
    TUS, status_code=status.HTTP_204_NO_CONTENT, responses=problem_docs(404, 409, 413, 415)
)
async def tus_patch(
    file_id: FileId,
    request: Request,
    runtime: RuntimeDep,
    user: CurrentUser,
    upload_offset: Annotated[int, Header(ge=0)],
    content_type: Annotated[str, Header()] = "",
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    """Add the body at `Upload-Offset` to a resumable upload; the last chunk completes it."""
    _speaks(tus_resumable)
    if content_type.split(";")[0].strip() != CHUNK_TYPE:
        raise Problem(415, f"a chunk is sent as {CHUNK_TYPE}", slug="not-a-chunk")
    chunk = bytearray()
    async for piece in request.stream():
        chunk += piece
        if len(chunk) > MAX_CHUNK:
            raise Problem(413, f"a chunk holds up to {MAX_CHUNK} bytes", slug="chunk-too-large")
    try:
        offset, file = await logic.tus_patch(runtime, user, file_id, upload_offset, bytes(chunk))
    except uploads.OffsetMismatch as exc:
        raise Problem(
            409,
            "the chunk does not start where the upload stands: ask HEAD for the offset",
            slug="offset-mismatch",
            headers={"Upload-Offset": str(exc.args[0]), "Tus-Resumable": VERSION},
        ) from exc
    return Response(
        status_code=204, headers=_headers(Upload_Offset=offset, Upload_State=file.state)
    )
