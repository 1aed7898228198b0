"""The attachment service's HTTP API: a channel's files (the gateway's /api/v1/attachments),
and the internal API the message service and the file-delivering services call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from quckchat.attachment import logic
from quckchat.attachment.schemas import Allowed, ChannelFile, MaySee, Resolve, Resolved
from quckchat.core.deps import CurrentUser, InternalCaller, RuntimeDep
from quckchat.core.errors import problem_docs
from quckchat.core.pagination import Page, Paging
from quckchat.core.values import ID_PATTERN

# At the root: the gateway serves this under /api/v1/attachments.
router = APIRouter(tags=["attachments"])
internal = APIRouter(prefix="/internal/attachments", tags=["internal"])

MAX_QUERY = 255  # a file name's longest


@router.get(
    "/",
    response_model=Page[ChannelFile],
    responses=problem_docs(
        400,
        404,
        described={
            400: "the cursor is not one this API issued",
            401: "no valid access token",
            404: "no such channel, or not a member",
            422: "a field is not valid",
        },
    ),
)
async def channel_files(
    channel_id: Annotated[str, Query(pattern=ID_PATTERN)],
    runtime: RuntimeDep,
    user: CurrentUser,
    paging: Paging,
    q: Annotated[
        str | None,
        Query(max_length=MAX_QUERY, description="a part of the name, or words of the file"),
    ] = None,
) -> Page[ChannelFile]:
    """The files of a channel's messages, newest first, for its members; `q` narrows them to
    names holding it (in any case) and files whose name and extracted text hold all its words
    (found by the search service)."""
    return await logic.channel_files(runtime, user, channel_id=channel_id, q=q, paging=paging)


@internal.post(
    "/resolve",
    response_model=list[Resolved],
    responses=problem_docs(
        404,
        described={
            404: "a file the sender may not see",
            422: "a file not clean, deleted or of another workspace",
        },
    ),
)
async def resolve(body: Resolve, runtime: RuntimeDep, _caller: InternalCaller) -> list[Resolved]:
    """The files as a message is to carry them, each checked (the message service asks)."""
    return await logic.resolve(runtime, body)


@internal.post("/may-see", response_model=Allowed, responses=problem_docs())
async def may_see(body: MaySee, runtime: RuntimeDep, _caller: InternalCaller) -> Allowed:
    """Whether the user is in a channel where a message carries the file, still served."""
    return Allowed(allowed=await logic.may_see(runtime, body))
