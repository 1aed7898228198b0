"""Message events keep the index current: created and edited index, deleted and expired remove;
the attachment and media services' events keep the files beside them (search/files.py).

Delivery is at least once and may be late (the message outbox republishes): every effect is
idempotent on its own (a stored copy is only replaced by one as new or newer, a removal is
recorded so no later copy brings the message back), and `first_delivery` records the event
after its effect, so a repeat is skipped without touching the index. A fetched run of created
and edited messages is indexed with one bulk request (`on_events`).
"""

from __future__ import annotations

from functools import partial

from sqlalchemy import insert, select

from quckchat.core import logging as qlog
from quckchat.core.events import Event, first_delivery, in_runs
from quckchat.core.runtime import Runtime
from quckchat.core.search import IndexedMessage
from quckchat.core.sql import Database, utcnow
from quckchat.message.events import GONE, MessageCreated, MessageEdited
from quckchat.search import files
from quckchat.search.documents import document
from quckchat.search.models import processed_events
from quckchat.search.store import backend, mark_removed, removed_among

log = qlog.get("search.consumers")
# The events that carry a message to index, by type.
INDEXED: dict[str, type[MessageCreated] | type[MessageEdited]] = {
    kind.type: kind for kind in (MessageCreated, MessageEdited)
}


HANDLED = INDEXED.keys() | GONE.keys() | files.TYPES


async def _message(runtime: Runtime, db: Database, event: Event) -> None:
    if (gone := GONE.get(event.type)) is not None:
        if (removed := gone.parse(event)) is None:
            return
        await mark_removed(db, removed.message_id)
        await backend(runtime).remove([removed.message_id])
    else:
        if (changed := INDEXED[event.type].parse(event)) is None:
            return
        doc = document(changed.message)
        if doc is not None and not await removed_among(db, [doc.id]):
            await backend(runtime).index([doc])


async def on_event(runtime: Runtime, event: Event) -> None:
    """Consumer of the message, attachment and media topics."""
    if event.type not in HANDLED:
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
    if event.type in files.TYPES:
        await files.handle(runtime, db, event)
    else:
        await _message(runtime, db, event)
    async with db.session() as session:
        await first_delivery(session, processed_events, event)


async def _index_run(runtime: Runtime, db: Database, events: list[Event]) -> None:
    """Created and edited messages, each indexed once, with one bulk request; then recorded."""
    done = processed_events.c.event_id
    async with db.session() as session:
        seen = set(await session.scalars(select(done).where(done.in_([e.id for e in events]))))
    fresh = {e.id: e for e in events if e.id not in seen}
    newest: dict[str, IndexedMessage] = {}
    for event in fresh.values():
        changed = INDEXED[event.type].parse(event)
        doc = None if changed is None else document(changed.message)
        # One copy per message in a request: the newest, as the index would keep anyway.
        if doc is not None and (doc.id not in newest or doc.version > newest[doc.id].version):
            newest[doc.id] = doc
    gone = await removed_among(db, newest)
    docs = [doc for doc in newest.values() if doc.id not in gone]
    if docs:
        await backend(runtime).index(docs)
    if fresh:
        async with db.session() as session:
            now = utcnow()
            await session.execute(
                insert(processed_events), [{"event_id": i, "processed_at": now} for i in fresh]
            )


async def on_events(runtime: Runtime, events: list[Event]) -> None:
    """The batch form of `on_event`: runs of created and edited messages in bulk, the rest one
    at a time, in the order fetched."""
    db = runtime.db
    if db is None:
        raise RuntimeError("the search service needs its database")
    await in_runs(
        events, INDEXED.keys(), partial(_index_run, runtime, db), partial(on_event, runtime)
    )
