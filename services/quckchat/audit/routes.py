"""The audit API: read, export and verify the log (platform admins and `audit.read` holders)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from quckchat.audit import chain, logic
from quckchat.audit.schemas import (
    AuditEntryPublic,
    EntryPageQuery,
    ExportQuery,
    VerificationPublic,
)
from quckchat.core.authz import require
from quckchat.core.deps import InternalCaller, RuntimeDep, SessionDep
from quckchat.core.pagination import Page

router = APIRouter(tags=["audit"])
internal_router = APIRouter(tags=["audit-internal"])

CanRead = Depends(require("platform", "audit.read", tenant="platform"))
DENIED: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid token"},
    403: {"description": "no audit.read"},
}
EXPORT_MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


@router.get(
    "/entries",
    response_model=Page[AuditEntryPublic],
    dependencies=[CanRead],
    responses={**DENIED, 400: {"description": "a cursor this API did not issue"}},
)
async def list_entries(
    session: SessionDep, filters: Annotated[EntryPageQuery, Query()]
) -> Page[AuditEntryPublic]:
    """Entries matching the filters, newest first, a page at a time."""
    return await logic.entry_page(session, query=filters)


@router.get(
    "/export",
    dependencies=[CanRead],
    response_class=StreamingResponse,
    responses={
        **DENIED,
        200: {
            "description": "the matching entries in log order",
            "content": {"application/x-ndjson": {}, "text/csv": {}},
        },
    },
)
async def export_entries(
    runtime: RuntimeDep, filters: Annotated[ExportQuery, Query()]
) -> StreamingResponse:
    """Stream every matching entry, oldest first, as JSON lines or CSV."""
    assert runtime.db is not None
    entries = logic.stream_entries(runtime.db, filters=filters)
    body = logic.export_csv(entries) if filters.format == "csv" else logic.export_jsonl(entries)
    return StreamingResponse(
        body,
        media_type=EXPORT_MEDIA_TYPES[filters.format],
        headers={"Content-Disposition": f'attachment; filename="audit.{filters.format}"'},
    )


@router.get("/verify", response_model=VerificationPublic, dependencies=[CanRead], responses=DENIED)
async def verify_chain(runtime: RuntimeDep) -> VerificationPublic:
    """Recompute every hash of the chain and report the first entry where it breaks."""
    assert runtime.db is not None
    return VerificationPublic.model_validate(await chain.verify(runtime.db))


@internal_router.get(
    "/internal/entries",
    response_model=Page[AuditEntryPublic],
    responses={401: {"description": "not a QuckChat service"}},
)
async def internal_entries(
    _caller: InternalCaller, session: SessionDep, filters: Annotated[EntryPageQuery, Query()]
) -> Page[AuditEntryPublic]:
    """The same listing for other services (the admin service), without a user token."""
    return await logic.entry_page(session, query=filters)
