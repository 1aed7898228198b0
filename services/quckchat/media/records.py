"""A file's media record: read, viewed, and moved from state to state with its event.

The record is its own outbox entry, as the file service's documents are: a change of state
marks it unpublished, and the event of its new state (`events.event_of`) goes out after the
write (`OUTBOX`). A state is only written over the state it was read in (`move`).
"""

from __future__ import annotations

from typing import Any

from quckchat.core.outbox import move_state, state_outbox
from quckchat.core.runtime import Runtime
from quckchat.media import store
from quckchat.media.events import event_of
from quckchat.media.schemas import MediaPublic, MediaState


def view(doc: dict[str, Any]) -> MediaPublic:
    return MediaPublic.model_validate({**doc, "file_id": doc["_id"]})


OUTBOX = state_outbox("media outbox", store.MEDIA, event_of, prefix="media")


async def find(runtime: Runtime, file_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = await runtime.document_db[store.MEDIA].find_one({"_id": file_id})
    return found


async def move(
    runtime: Runtime, doc: dict[str, Any], to: MediaState, **fields: Any
) -> dict[str, Any] | None:
    """Move the record from the state it was read in to `to` and announce it; None when
    another writer moved it first."""
    return await move_state(runtime, OUTBOX, doc, to, **fields)
