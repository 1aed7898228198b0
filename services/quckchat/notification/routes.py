"""The notification service's HTTP API: thin routes over `logic`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from quckchat.core.deps import CurrentUser, InternalCaller, RuntimeDep, SessionDep
from quckchat.core.errors import problem_docs
from quckchat.core.pagination import Page, Paging
from quckchat.core.values import ID_PATTERN
from quckchat.notification import logic
from quckchat.notification.schemas import (
    AttemptPublic,
    NotificationPublic,
    ReadAll,
    ReadResult,
    SendBatch,
    SendRequest,
    Sent,
    SentBatch,
    UnreadCounts,
)

# At the root: the gateway serves this under /api/v1/notifications.
router = APIRouter(tags=["notifications"])

NotificationId = Annotated[str, Path(pattern=ID_PATTERN)]

PROBLEMS = {
    400: "the cursor is not one this API issued",
    401: "no valid access token",
    404: "no such notification of yours",
    422: "a field is not valid",
}


def _problems(*codes: int) -> dict[int | str, Any]:
    return problem_docs(*codes, described=PROBLEMS)


@router.get("/", response_model=Page[NotificationPublic], responses=_problems(400))
async def listed(
    session: SessionDep,
    user: CurrentUser,
    paging: Paging,
    unread: Annotated[bool, Query(description="only the unread ones")] = False,
) -> Page[NotificationPublic]:
    """Your notifications, newest first."""
    return await logic.listed(session, principal=user, unread=unread, paging=paging)


@router.get("/unread", response_model=UnreadCounts, responses=_problems())
async def unread(session: SessionDep, user: CurrentUser) -> UnreadCounts:
    """How many of your notifications are unread, in all and per collapse key."""
    return await logic.unread_counts(session, principal=user)


@router.get("/deliveries", response_model=Page[AttemptPublic], responses=_problems(400))
async def deliveries(session: SessionDep, user: CurrentUser, paging: Paging) -> Page[AttemptPublic]:
    """Every attempt at delivering your notifications, newest first."""
    return await logic.attempts(session, principal=user, paging=paging)


@router.post("/read", response_model=ReadResult, responses=_problems())
async def read_all(
    body: ReadAll, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> ReadResult:
    """Mark all your notifications read, or all of one collapse key."""
    return await logic.read_all(session, runtime, principal=user, collapse_key=body.collapse_key)


@router.post("/{notification_id}/read", response_model=NotificationPublic, responses=_problems(404))
async def read_one(
    notification_id: NotificationId, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> NotificationPublic:
    """Mark one of your notifications read."""
    return await logic.read_one(session, runtime, principal=user, notification_id=notification_id)


@router.post(
    "/internal/notifications/send", response_model=Sent, tags=["internal"], responses=_problems()
)
async def send(
    body: SendRequest, session: SessionDep, runtime: RuntimeDep, caller: InternalCaller
) -> Sent:
    """Tell a user, or send to a bare email address or phone (a workspace invite)."""
    return await logic.send(session, runtime, body=body)


@router.post(
    "/internal/notifications/send-batch",
    response_model=SentBatch,
    tags=["internal"],
    responses=_problems(),
)
async def send_batch(
    body: SendBatch, session: SessionDep, runtime: RuntimeDep, caller: InternalCaller
) -> SentBatch:
    """Several sends in one transaction: all are stored, or none."""
    return SentBatch(items=[await logic.send(session, runtime, body=item) for item in body.items])
