"""Message events keep the index current: created and edited index, deleted and expired remove.

Delivery is at least once and may be late (the message outbox republishes): every effect is
idempotent on its own (a stored copy is only replaced by one as new or newer, a removal is
recorded so no later copy brings the message back), and `first_delivery` records the event
after its effect, so a repeat is skipped without touching the index.
"""

from __future__ import annotations

from sqlalchemy import select

from quckchat.core import logging as qlog
from quckchat.core.events import Event, first_delivery
from quckchat.core.runtime import Runtime
from quckchat.search.documents import document
from quckchat.search.models import processed_events
from quckchat.search.store import backend, mark_removed, removed_among

log = qlog.get("search.consumers")
INDEXED = frozenset({"message.created", "message.edited"})
REMOVALS = frozenset({"message.deleted", "message.expired"})


async def on_event(runtime: Runtime, event: Event) -> None:
    """Consumer of the message topic."""
    if event.type not in INDEXED | REMOVALS:
        return
    db = runtime.db
    if db is None:
        raise RuntimeError("the search service needs its database")
    async with db.session() as session:
        seen = await session.scalar(
            select(processed_events.c.event_id).where(processed_events.c.event_id == event.id)
        )
    if seen is not None:
        return
    if event.type in REMOVALS:
        message_id = event.data.get("message_id")
        if not isinstance(message_id, str):
            log.warning("event %s (%s) names no message; ignored", event.id, event.type)
            return
        await mark_removed(db, message_id)
        await backend(runtime).remove([message_id])
    else:
        doc = document(event.data.get("message"))
        if doc is None:
            log.warning("event %s (%s) has no usable message; ignored", event.id, event.type)
            return
        if not await removed_among(db, [doc.id]):
            await backend(runtime).index([doc])
    async with db.session() as session:
        await first_delivery(session, processed_events, event)
