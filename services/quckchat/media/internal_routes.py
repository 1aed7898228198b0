"""The media service's internal API: what the delivery service asks before it hands out an
original (whether the file carried a location, and whether a copy without it exists)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from quckchat.core.deps import InternalCaller, RuntimeDep
from quckchat.core.errors import not_found, problem_docs
from quckchat.core.values import ID_PATTERN
from quckchat.media import records
from quckchat.media.schemas import Location

router = APIRouter(prefix="/internal/media", tags=["internal"])


@router.get("/{file_id}/location", response_model=Location, responses=problem_docs(404))
async def location(
    file_id: Annotated[str, Path(pattern=ID_PATTERN)], runtime: RuntimeDep, _caller: InternalCaller
) -> Location:
    """Where processing stands, and what it found of the file's location metadata."""
    doc = await records.find(runtime, file_id)
    if doc is None:
        raise not_found("media record")
    return Location.model_validate(doc)
