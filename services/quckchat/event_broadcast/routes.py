"""The broadcast HTTP API: announcements, platform notices and a workspace's history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from quckchat.core.authz import PlatformAdmin
from quckchat.core.deps import CurrentUser, RuntimeDep
from quckchat.core.errors import problem_docs
from quckchat.core.pagination import Page, Paging
from quckchat.event_broadcast import logic
from quckchat.event_broadcast.schemas import (
    ID_PATTERN,
    AnnouncementCreate,
    BroadcastPublic,
    NoticeCreate,
)

router = APIRouter(tags=["broadcasts"])


PROBLEMS = {
    400: "the cursor is not one this API issued",
    401: "no valid access token",
    403: "not allowed to broadcast here",
    404: "no such workspace, or not a member",
    422: "a field is not valid",
}


def _problems(*codes: int) -> dict[int | str, Any]:
    return problem_docs(*codes, described=PROBLEMS)


@router.post(
    "/",
    response_model=BroadcastPublic,
    status_code=status.HTTP_201_CREATED,
    responses=_problems(403, 404),
)
async def announce(
    body: AnnouncementCreate, runtime: RuntimeDep, user: CurrentUser
) -> BroadcastPublic:
    """Announce to every member of a workspace (its admins and owners)."""
    return logic.view(await logic.announce(runtime, user, body))


@router.post(
    "/system",
    response_model=BroadcastPublic,
    status_code=status.HTTP_201_CREATED,
    responses=_problems(403),
)
async def notify_all(
    body: NoticeCreate, runtime: RuntimeDep, admin: PlatformAdmin
) -> BroadcastPublic:
    """A platform administrator's notice to every workspace."""
    return logic.view(await logic.notify_all(runtime, admin, body.text))


@router.get("/", response_model=Page[BroadcastPublic], responses=_problems(400, 404))
async def history(
    runtime: RuntimeDep,
    user: CurrentUser,
    workspace_id: Annotated[str, Query(pattern=ID_PATTERN)],
    paging: Paging,
) -> Page[BroadcastPublic]:
    """The workspace's broadcasts the caller may see, newest first."""
    items, next_cursor = await logic.history(runtime, user, workspace_id, paging)
    return Page(items=items, next_cursor=next_cursor)
