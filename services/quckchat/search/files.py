"""Files beside messages in the index: the attachment service's bindings (which message of which
channel carries a file, under what name) joined by file id with the media service's text
extracted from the file.

Why the join is here: a binding is the attachment service's fact and the text the media
service's; each announces its own, and search, the one that needs both, keeps a derived copy
of each (models.py) and joins them. Had the attachment service carried the text in its events,
it would keep a second copy of the media service's fact only to pass it on, and announce every
binding again when a text arrived.

Events arrive in any order: the text before the binding or after it, a file hidden or a
message gone before either. Each event stores its copy first, then writes the documents it
affects from what is stored (a copy with the text outranks one without, whichever is written
last), then reads the removal records and takes back what they cover. A removal is recorded
before anything is taken out, so of a write and a removal racing, one always sees the other;
a late event never brings a removed file back. Repeats are skipped by event id upstream, and
each step is idempotent on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from sqlalchemy import delete, insert, select, update

from quckchat.attachment.events import AttachmentBound, AttachmentHidden, AttachmentUnbound
from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.core.search import FileIndex, IndexedFile, micros
from quckchat.core.sql import Database, utcnow
from quckchat.media.events import MediaProcessed
from quckchat.search.models import file_bindings, file_texts, files_removed
from quckchat.search.store import file_index, insert_once

Removal = Literal["binding", "file"]
TYPES = frozenset(
    {AttachmentBound.type, AttachmentUnbound.type, AttachmentHidden.type, MediaProcessed.type}
)
BATCH = 500


async def removed_among(db: Database, ids: Iterable[str]) -> set[str]:
    """The binding and file ids among `ids` that were removed."""
    wanted = list(ids)
    if not wanted:
        return set()
    async with db.session() as session:
        query = select(files_removed.c.id).where(files_removed.c.id.in_(wanted))
        return set((await session.scalars(query)).all())


def _documents(rows: Sequence[Any], texts: dict[str, str]) -> list[IndexedFile]:
    return [
        IndexedFile(
            id=row.id,
            workspace_id=row.workspace_id,
            channel_id=row.channel_id,
            file_id=row.file_id,
            message_id=row.message_id,
            name=row.name,
            created_us=row.created_us,
            text=texts.get(row.file_id),
        )
        for row in rows
    ]


async def _joined(db: Database, rows: Sequence[Any]) -> list[IndexedFile]:
    """The bindings as documents, each with its file's text if there is one yet."""
    file_ids = sorted({row.file_id for row in rows})
    async with db.session() as session:
        found = await session.execute(
            select(file_texts.c.file_id, file_texts.c.text).where(
                file_texts.c.file_id.in_(file_ids)
            )
        )
        texts = {file_id: text for file_id, text in found.all()}
    return _documents(rows, texts)


async def _take_back(runtime: Runtime, db: Database, file_id: str, ids: Sequence[str]) -> None:
    """Remove what a removal recorded meanwhile covers among the file's documents `ids`."""
    gone = await removed_among(db, [file_id, *ids])
    doomed = list(ids) if file_id in gone else [i for i in ids if i in gone]
    if doomed:
        async with db.session() as session:
            await session.execute(delete(file_bindings).where(file_bindings.c.id.in_(doomed)))
        await file_index(runtime).remove(doomed)


async def reindex_file(runtime: Runtime, db: Database, file_id: str) -> None:
    """Write the documents of the file's bindings as stored now, then take back what was
    removed meanwhile."""
    async with db.session() as session:
        rows = (
            await session.execute(select(file_bindings).where(file_bindings.c.file_id == file_id))
        ).all()
    if not rows:
        return
    await file_index(runtime).index(await _joined(db, rows))
    await _take_back(runtime, db, file_id, [row.id for row in rows])


async def bind(runtime: Runtime, db: Database, bound: AttachmentBound) -> None:
    if await removed_among(db, [bound.binding_id, bound.file_id]):
        return
    await insert_once(
        db,
        insert(file_bindings).values(
            id=bound.binding_id,
            file_id=bound.file_id,
            message_id=bound.message_id,
            workspace_id=bound.workspace_id,
            channel_id=bound.channel_id,
            name=bound.name,
            created_us=micros(bound.created_at),
        ),
    )
    await reindex_file(runtime, db, bound.file_id)


async def keep_text(runtime: Runtime, db: Database, processed: MediaProcessed) -> None:
    """Store the file's text (the latest processing's) and index it with its bindings."""
    if not processed.text or await removed_among(db, [processed.file_id]):
        return
    async with db.session() as session:
        changed = await session.execute(
            update(file_texts)
            .where(file_texts.c.file_id == processed.file_id)
            .values(text=processed.text, stored_at=utcnow())
        )
    if not changed.rowcount:  # type: ignore[attr-defined]
        row = {"file_id": processed.file_id, "text": processed.text, "stored_at": utcnow()}
        await insert_once(db, insert(file_texts).values(row))
    await reindex_file(runtime, db, processed.file_id)


async def remove(runtime: Runtime, db: Database, ident: str, kind: Removal, file_id: str) -> None:
    """Record the removal of a binding or of a whole file, then take out what it covers."""
    row = {"id": ident, "kind": kind, "removed_at": utcnow()}
    await insert_once(db, insert(files_removed).values(row))
    bindings = file_bindings.c
    covered = bindings.id == ident if kind == "binding" else bindings.file_id == file_id
    async with db.session() as session:
        ids = list((await session.scalars(select(bindings.id).where(covered))).all())
        await session.execute(delete(file_bindings).where(covered))
        if kind == "file":
            await session.execute(delete(file_texts).where(file_texts.c.file_id == file_id))
    await file_index(runtime).remove([ident] if kind == "binding" else ids)


async def handle(runtime: Runtime, db: Database, event: Event) -> None:
    """The effect of one attachment or media event (a malformed one has none)."""
    if event.type == AttachmentBound.type:
        if (bound := AttachmentBound.parse(event)) is not None:
            await bind(runtime, db, bound)
    elif event.type == AttachmentUnbound.type:
        if (unbound := AttachmentUnbound.parse(event)) is not None:
            await remove(runtime, db, unbound.binding_id, "binding", unbound.file_id)
    elif event.type == AttachmentHidden.type:
        if (hidden := AttachmentHidden.parse(event)) is not None:
            await remove(runtime, db, hidden.file_id, "file", hidden.file_id)
    elif event.type == MediaProcessed.type and (processed := MediaProcessed.parse(event)):
        await keep_text(runtime, db, processed)


async def fill(index: FileIndex, db: Database, *, generation: str | None = None) -> int:
    """Index every stored binding with its text; in place, remove what else is indexed. How
    many are live."""
    live: set[str] = set()
    after = ""
    while True:
        async with db.session() as session:
            rows = (
                await session.execute(
                    select(file_bindings)
                    .where(file_bindings.c.id > after)
                    .order_by(file_bindings.c.id)
                    .limit(BATCH)
                )
            ).all()
        if not rows:
            break
        after = rows[-1].id
        gone = await removed_among(db, {r.id for r in rows} | {r.file_id for r in rows})
        kept = [r for r in rows if r.id not in gone and r.file_id not in gone]
        await index.index(await _joined(db, kept), generation=generation)
        live.update(r.id for r in kept)
    if generation is None:
        await index.remove(sorted(await index.indexed_ids() - live))
    return len(live)


async def rebuild(index: FileIndex, db: Database) -> int:
    """Rebuild the files' index from the stored copies: into a new generation where the
    backend has them, then once more in place for what changed during the fill."""
    generation = await index.begin_rebuild()
    if generation is not None:
        await fill(index, db, generation=generation)
        await index.finish_rebuild(generation)
    return await fill(index, db)
