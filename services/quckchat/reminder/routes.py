"""The reminder service's HTTP API: thin routes over `logic`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from quckchat.core.deps import CurrentUser, RuntimeDep, SessionDep
from quckchat.core.errors import problem_docs
from quckchat.core.pagination import Page, Paging
from quckchat.core.values import ID_PATTERN
from quckchat.reminder import logic
from quckchat.reminder.schemas import ReminderCreate, ReminderPublic, Snooze, Status

# At the root: the gateway serves this under /api/v1/reminders.
router = APIRouter(tags=["reminders"])


ONE = "/{reminder_id}"

ReminderId = Annotated[str, Path(pattern=ID_PATTERN)]


PROBLEMS = {
    400: "the cursor is not one this API issued",
    401: "no valid access token",
    403: "you may not post in that channel",
    404: "no such reminder, message or channel, or not a member of it",
    409: "the reminder or channel does not allow it now",
    422: "a field is not valid",
}


def _problems(*codes: int) -> dict[int | str, Any]:
    return problem_docs(*codes, described=PROBLEMS)


@router.post(
    "/",
    response_model=ReminderPublic,
    status_code=status.HTTP_201_CREATED,
    responses=_problems(403, 404, 409),
)
async def create(
    body: ReminderCreate, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> ReminderPublic:
    """Remind yourself (about a message) or a channel, at a time or after a delay."""
    return await logic.create(session, runtime, principal=user, body=body)


@router.get("/", response_model=Page[ReminderPublic], responses=_problems(400))
async def listed(
    session: SessionDep,
    user: CurrentUser,
    paging: Paging,
    status: Annotated[Status | None, Query(description="default: the open ones")] = None,
) -> Page[ReminderPublic]:
    """Your reminders, soonest first."""
    return await logic.listed(session, principal=user, status=status, paging=paging)


@router.get(ONE, response_model=ReminderPublic, responses=_problems(404))
async def get(reminder_id: ReminderId, session: SessionDep, user: CurrentUser) -> ReminderPublic:
    return await logic.get(session, principal=user, reminder_id=reminder_id)


@router.delete(ONE, status_code=status.HTTP_204_NO_CONTENT, responses=_problems(404))
async def delete(reminder_id: ReminderId, session: SessionDep, user: CurrentUser) -> None:
    await logic.delete(session, principal=user, reminder_id=reminder_id)


@router.post(ONE + "/complete", response_model=ReminderPublic, responses=_problems(404, 409))
async def complete(
    reminder_id: ReminderId, session: SessionDep, user: CurrentUser
) -> ReminderPublic:
    """Mark it done: it never fires again (a repeating one ends)."""
    return await logic.complete(session, principal=user, reminder_id=reminder_id)


@router.post(ONE + "/snooze", response_model=ReminderPublic, responses=_problems(404, 409))
async def snooze(
    reminder_id: ReminderId, body: Snooze, session: SessionDep, user: CurrentUser
) -> ReminderPublic:
    """Fire it (again) in `seconds`."""
    return await logic.snooze(
        session, principal=user, reminder_id=reminder_id, seconds=body.seconds
    )
