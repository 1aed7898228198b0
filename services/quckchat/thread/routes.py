"""The thread service's HTTP API: thin routes over `logic`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from quckchat.core.deps import CurrentUser, RuntimeDep, SessionDep
from quckchat.core.errors import problem_docs
from quckchat.core.pagination import Page, Paging
from quckchat.core.values import ID_PATTERN
from quckchat.thread import logic
from quckchat.thread.schemas import MuteUpdate, ReadMark, ThreadPublic

# At the root: the gateway serves this under /api/v1/threads.
router = APIRouter(tags=["threads"])


ONE = "/{parent_id}"

ParentId = Annotated[str, Path(pattern=ID_PATTERN, description="the thread's parent message")]
WorkspaceId = Annotated[str, Query(pattern=ID_PATTERN)]


PROBLEMS = {
    400: "the cursor is not one this API issued",
    401: "no valid access token",
    404: "no such thread or message, or not a member of its channel",
    422: "a field is not valid",
}


def _problems(*codes: int) -> dict[int | str, Any]:
    return problem_docs(*codes, described=PROBLEMS)


@router.get("/", response_model=Page[ThreadPublic], responses=_problems(400))
async def followed(
    workspace_id: WorkspaceId,
    session: SessionDep,
    user: CurrentUser,
    paging: Paging,
) -> Page[ThreadPublic]:
    """The threads the caller follows in a workspace, newest activity first, with unread."""
    return await logic.followed(session, principal=user, workspace_id=workspace_id, paging=paging)


@router.get(ONE, response_model=ThreadPublic, responses=_problems(404))
async def get_thread(
    parent_id: ParentId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> ThreadPublic:
    return await logic.get_thread(session, runtime, principal=user, parent_id=parent_id)


@router.put(ONE + "/follow", response_model=ThreadPublic, responses=_problems(404))
async def follow(
    parent_id: ParentId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> ThreadPublic:
    """Follow a thread, or a message before its first reply."""
    return await logic.follow(session, runtime, principal=user, parent_id=parent_id)


@router.delete(ONE + "/follow", status_code=status.HTTP_204_NO_CONTENT, responses=_problems(404))
async def unfollow(
    parent_id: ParentId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> None:
    await logic.unfollow(session, runtime, principal=user, parent_id=parent_id)


@router.put(ONE + "/mute", response_model=ThreadPublic, responses=_problems(404))
async def mute(
    parent_id: ParentId,
    body: MuteUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> ThreadPublic:
    """Replies tell the caller nothing until `until` (absent: until unmuted)."""
    return await logic.mute(session, runtime, principal=user, parent_id=parent_id, until=body.until)


@router.delete(ONE + "/mute", status_code=status.HTTP_204_NO_CONTENT, responses=_problems(404))
async def unmute(
    parent_id: ParentId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> None:
    await logic.unmute(session, runtime, principal=user, parent_id=parent_id)


@router.post(ONE + "/read", response_model=ThreadPublic, responses=_problems(404))
async def mark_read(
    parent_id: ParentId,
    body: ReadMark,
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
) -> ThreadPublic:
    """Mark the thread read up to a reply seq (forward only)."""
    return await logic.mark_read(
        session, runtime, principal=user, parent_id=parent_id, seq=body.seq
    )
