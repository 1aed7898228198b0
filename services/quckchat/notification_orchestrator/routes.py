"""The orchestrator's internal API: what was decided, for the notification service and for
checking a decision by its id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from quckchat.core.deps import InternalCaller, RuntimeDep
from quckchat.core.errors import not_found, problem_docs
from quckchat.core.values import ID_PATTERN
from quckchat.notification_orchestrator import store
from quckchat.notification_orchestrator.events import NoticeDecided

router = APIRouter(prefix="/internal/notices", tags=["internal"])

NoticeId = Annotated[str, Path(pattern=ID_PATTERN)]


@router.get("/{notice_id}", response_model=NoticeDecided, responses=problem_docs(404))
async def get_notice(
    notice_id: NoticeId, runtime: RuntimeDep, _caller: InternalCaller
) -> NoticeDecided:
    """One decision as it was published; 404 when none was made under that id."""
    found = await store.notice(runtime, notice_id)
    if found is None:
        raise not_found("notice")
    return found
