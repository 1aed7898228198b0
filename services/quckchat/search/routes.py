"""The search service's HTTP API: one query endpoint at the root, and the internal one the
attachment service asks for a channel's files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from quckchat.core.deps import CurrentUser, InternalCaller, RuntimeDep
from quckchat.core.errors import problem_docs
from quckchat.core.pagination import MAX_LIMIT
from quckchat.core.values import ID_PATTERN
from quckchat.search import logic
from quckchat.search.schemas import MAX_PAGE, FilePage, SearchPage

# At the root: the gateway serves this under /api/v1/search.
router = APIRouter(tags=["search"])
internal = APIRouter(prefix="/internal/search", tags=["internal"])

MAX_QUERY = 1_000
RESPONSES = problem_docs(
    400,
    404,
    described={
        400: "the cursor is not one this API issued",
        401: "no valid access token",
        404: "not a member of the workspace",
        422: "the query or a field is not valid",
    },
)


@router.get("/", response_model=SearchPage, responses=RESPONSES)
async def search(
    workspace_id: Annotated[str, Query(pattern=ID_PATTERN)],
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
    runtime: RuntimeDep,
    user: CurrentUser,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
) -> SearchPage:
    """Messages matching `q` (words, "phrases", from: in: has:link has:file is:thread
    before: after: on:) in the channels the caller may read, newest first."""
    return await logic.search(
        runtime, principal=user, workspace_id=workspace_id, q=q, cursor=cursor, limit=limit
    )


@internal.get(
    "/files",
    response_model=FilePage,
    responses=problem_docs(
        400,
        described={
            400: "the cursor is not one this API issued",
            401: "not a QuckChat service",
            422: "a field is not valid",
        },
    ),
)
async def channel_files(
    channel_id: Annotated[str, Query(pattern=ID_PATTERN)],
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
    runtime: RuntimeDep,
    _caller: InternalCaller,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> FilePage:
    """The channel's files whose name holds `q` or whose name and extracted text hold all its
    words, newest first (the caller checked who asks)."""
    return await logic.channel_files(
        runtime, channel_id=channel_id, q=q, cursor=cursor, limit=limit
    )
