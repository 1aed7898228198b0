"""The bookmark service's HTTP API: thin routes over `logic`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from quckchat.bookmark import logic
from quckchat.bookmark.schemas import (
    BookmarkCreate,
    BookmarkUpdate,
    ChannelBookmarkPublic,
    SavedPublic,
    SaveRequest,
)
from quckchat.core.deps import CurrentUser, RuntimeDep, SessionDep
from quckchat.core.errors import problem_docs
from quckchat.core.pagination import Page, Paging
from quckchat.core.values import ID_PATTERN

# At the root: the gateway serves this under /api/v1/bookmarks.
router = APIRouter(tags=["bookmarks"])

Id = Annotated[str, Path(pattern=ID_PATTERN)]


PROBLEMS = {
    400: "the cursor is not one this API issued",
    401: "no valid access token",
    403: "only the bookmark's author or a channel admin may do this",
    404: "no such message, channel or bookmark, or not a member of its channel",
    409: "the channel is archived or has no room for more bookmarks",
    422: "a field is not valid",
}


def _problems(*codes: int) -> dict[int | str, Any]:
    return problem_docs(*codes, described=PROBLEMS)


@router.get("/", response_model=Page[SavedPublic], responses=_problems(400))
async def list_saved(
    session: SessionDep,
    user: CurrentUser,
    paging: Paging,
    workspace_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> Page[SavedPublic]:
    """The caller's saved messages, newest first."""
    return await logic.list_saved(session, principal=user, workspace_id=workspace_id, paging=paging)


@router.put(
    "/messages/{message_id}",
    response_model=SavedPublic,
    responses={201: {"description": "saved", "model": SavedPublic}, **_problems(404)},
)
async def save(
    message_id: Id,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    response: Response,
    body: SaveRequest | None = None,
) -> SavedPublic:
    """Save a message you can see (201), or change the note of one you saved (200)."""
    saved, created = await logic.save(
        session,
        runtime,
        principal=user,
        message_id=message_id,
        note=body.note if body else None,
        note_sent=body is not None and "note" in body.model_fields_set,
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return saved


@router.delete(
    "/messages/{message_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_problems(404)
)
async def unsave(
    message_id: Id, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> None:
    await logic.unsave(session, runtime, principal=user, message_id=message_id)


@router.get(
    "/channels/{channel_id}",
    response_model=list[ChannelBookmarkPublic],
    responses=_problems(404),
)
async def list_channel(
    channel_id: Id, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> list[ChannelBookmarkPublic]:
    """The channel's header links, in the order they were added."""
    return await logic.list_channel(session, runtime, principal=user, channel_id=channel_id)


@router.post(
    "/channels/{channel_id}",
    response_model=ChannelBookmarkPublic,
    status_code=status.HTTP_201_CREATED,
    responses=_problems(404, 409),
)
async def add_to_channel(
    channel_id: Id,
    body: BookmarkCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> ChannelBookmarkPublic:
    """Pin a link to the channel's header (any member)."""
    return await logic.add_to_channel(
        session, runtime, principal=user, channel_id=channel_id, body=body
    )


@router.patch(
    "/channels/{channel_id}/{bookmark_id}",
    response_model=ChannelBookmarkPublic,
    responses=_problems(403, 404, 409),
)
async def update_in_channel(
    channel_id: Id,
    bookmark_id: Id,
    body: BookmarkUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> ChannelBookmarkPublic:
    """Change a link (its author, or a channel admin)."""
    return await logic.update_in_channel(
        session, runtime, principal=user, channel_id=channel_id, bookmark_id=bookmark_id, body=body
    )


@router.delete(
    "/channels/{channel_id}/{bookmark_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_problems(403, 404),
)
async def remove_from_channel(
    channel_id: Id,
    bookmark_id: Id,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> None:
    """Remove a link (its author, or a channel admin)."""
    await logic.remove_from_channel(
        session, runtime, principal=user, channel_id=channel_id, bookmark_id=bookmark_id
    )
