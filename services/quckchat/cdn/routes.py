"""The cdn's public API (the gateway's /api/v1/cdn/...): signed URLs for signed-in users, and
the routes those URLs, public links and proxied images are fetched from (no token: the URL is
the permission)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status

from quckchat.cdn import links, logic
from quckchat.cdn.schemas import LinkCreate, LinkPublic, Rendition, SignedUrl
from quckchat.core.deps import CurrentUser, RuntimeDep
from quckchat.core.errors import problem_docs
from quckchat.core.values import ID_PATTERN

router = APIRouter(tags=["cdn"])

FileId = Annotated[str, Path(pattern=ID_PATTERN)]
PROBLEMS = {
    403: "public links are off in this workspace",
    404: "no such file, rendition or link, not one the caller may see, or a URL not signed here",
    409: "the file is quarantined, or still being uploaded or checked",
    416: "the range asked for lies past the end of the file",
    422: "a field is not valid, or the proxied URL is not an image it may fetch",
}
BYTES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the bytes", "content": {"application/octet-stream": {}}}
}


def _problems(*codes: int) -> dict[int | str, Any]:
    return problem_docs(*codes, described=PROBLEMS)


@router.get("/files/{file_id}/url", response_model=SignedUrl, responses=_problems(404, 409))
async def file_url(
    file_id: FileId,
    runtime: RuntimeDep,
    user: CurrentUser,
    rendition: Rendition = Rendition.ORIGINAL,
) -> SignedUrl:
    """A short-lived URL of a file or one of its previews, for whoever may see the file."""
    return await logic.signed_url(runtime, user, file_id, rendition)


@router.get(
    "/f/{file_id}/{rendition}",
    response_class=Response,
    responses={**BYTES, **_problems(404, 416)},
)
async def signed_bytes(
    file_id: FileId,
    rendition: Rendition,
    request: Request,
    runtime: RuntimeDep,
    e: Annotated[str, Query(max_length=20, description="when the URL expires")] = "",
    s: Annotated[str, Query(max_length=100, description="the signature")] = "",
) -> Response:
    """The bytes behind a signed URL: ranges, ETag and cache headers as HTTP has them."""
    return await logic.deliver(runtime, request, file_id, rendition, expires=e, signature=s)


@router.post(
    "/links",
    response_model=LinkPublic,
    status_code=status.HTTP_201_CREATED,
    responses=_problems(403, 404, 409),
)
async def create_link(body: LinkCreate, runtime: RuntimeDep, user: CurrentUser) -> LinkPublic:
    """A public link to a file (its URL is in this answer only), where the workspace allows."""
    return await links.create(runtime, user, body.file_id)


@router.get("/links", response_model=list[LinkPublic], responses=_problems(404))
async def list_links(
    runtime: RuntimeDep, user: CurrentUser, file_id: Annotated[str, Query(pattern=ID_PATTERN)]
) -> list[LinkPublic]:
    """A file's public links that still work, newest first."""
    return await links.list_for(runtime, user, file_id)


@router.delete("/links/{link_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_problems(404))
async def revoke_link(link_id: FileId, runtime: RuntimeDep, user: CurrentUser) -> None:
    """Stop a public link for good."""
    await links.revoke(runtime, user, link_id)


@router.get(
    "/p/{token}",
    response_class=Response,
    responses={**BYTES, **_problems(404, 416)},
)
async def public_bytes(
    request: Request,
    runtime: RuntimeDep,
    token: Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
) -> Response:
    """The file behind a public link."""
    return await logic.deliver_link(runtime, request, token)


@router.get("/proxy", response_class=Response, responses={**BYTES, **_problems(404, 422)})
async def proxied_image(
    request: Request,
    runtime: RuntimeDep,
    url: Annotated[str, Query(max_length=2048)] = "",
    s: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """A remote image, fetched by the platform, for a URL it signed (link previews)."""
    return await logic.deliver_proxied(runtime, request, url, s)


# HEAD answers what GET would, without the body (a download manager's first question).
for path, endpoint in (("/f/{file_id}/{rendition}", signed_bytes), ("/p/{token}", public_bytes)):
    router.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False)
