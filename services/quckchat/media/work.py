"""Processing files as they become ready, and forgetting them when they are deleted.

`file.ready` only records the file as pending (quick, so the consumer keeps up and a batch is
committed long before the broker's poll interval runs out); `process_due` then processes the
pending records one at a time on each replica. One at a time: each file's decoders may map
`Limits.memory_bytes` of address space (ffmpeg more), so a replica needs memory for one file,
and more throughput is more replicas, which share the records by claiming each attempt.

Every step may run twice, on any replica, and ends in the same place: an attempt is claimed by
a unique insert (the document store's one isolated write), renditions are written under fixed
keys, and a record is only moved out of the state it was read in. A file that cannot be read
is retried with backoff, then recorded `failed`; a file that is too large, broken or hostile
is recorded `generic`, never retried: processing itself never raises for what a file holds.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from quckchat.core import logging as qlog
from quckchat.core.documents import claim, stored_now
from quckchat.core.events import Event
from quckchat.core.objects import ObjectMissing, ObjectStore
from quckchat.core.periodic import Periodic, nudge
from quckchat.core.runtime import Runtime
from quckchat.file.events import FileDeleted, FileReady
from quckchat.media import store
from quckchat.media.events import capped_text
from quckchat.media.processing import Limits, Processed, process
from quckchat.media.processing.formats import PDF, TEXT
from quckchat.media.processing.office import FORMATS as OFFICE
from quckchat.media.processing.results import SANITIZED, generic
from quckchat.media.records import move
from quckchat.media.schemas import Kind, MediaState

log = qlog.get("media")
LIMITS = Limits()
BATCH = 20
# An attempt holds its record this long (processing is bounded by LIMITS.seconds, and the
# bytes' transfer); past it, another replica may try, as for a replica that died mid-way.
LEASE = timedelta(minutes=5)
RETRY_AFTER = timedelta(seconds=10)
MAX_ATTEMPTS = 5
# A deleted file's tombstone outlasts any redelivery of its file.ready.
TOMBSTONE_KEPT = timedelta(days=7)


def kind_of(content_type: str) -> Kind:
    if content_type.startswith("image/"):
        return Kind.IMAGE
    if content_type.startswith("video/"):
        return Kind.VIDEO
    if content_type == PDF:
        return Kind.PDF
    if content_type in OFFICE or content_type == TEXT:
        return Kind.DOCUMENT
    return Kind.OTHER


async def on_file_event(runtime: Runtime, event: Event) -> None:
    """Consumer of the file topic."""
    if event.type == FileReady.type and (ready := FileReady.parse(event)) is not None:
        if await take(runtime, ready, tenant=event.tenant):
            nudge(runtime, PROCESSING)  # previews as soon as this replica is free
    elif event.type == FileDeleted.type and (deleted := FileDeleted.parse(event)) is not None:
        await forget(runtime, deleted.file_id)


async def take(runtime: Runtime, ready: FileReady, *, tenant: str | None) -> bool:
    """Record a ready file as pending; False when it has a record already (a redelivery, a
    record processed for these bytes, or the tombstone of a deleted file)."""
    now = stored_now()
    return await claim(
        runtime.document_db[store.MEDIA],
        ready.file_id,
        tenant=tenant,
        workspace_id=ready.workspace_id,
        uploader_id=ready.uploader_id,
        name=ready.name,
        content_type=ready.content_type,
        size=ready.size,
        sha256=ready.sha256,
        source_key=ready.key_name,
        kind=kind_of(ready.content_type),
        state=MediaState.PENDING,
        attempts=0,
        due_at=now,
        renditions=[],
        published=True,  # nothing to announce until it is processed
        created_at=now,
        changed_at=now,
    )


async def process_due(runtime: Runtime) -> int:
    """Process the pending records whose turn it is, one at a time; how many were attempted."""
    media = runtime.document_db[store.MEDIA]
    due = {"state": MediaState.PENDING, "due_at": {"$lte": stored_now()}}
    found = await media.find(due).sort("due_at", 1).limit(BATCH).to_list(None)
    attempted = 0
    for doc in found:
        if runtime.stopping:
            break
        attempted += await attempt(runtime, doc)
    return attempted


PROCESSING = Periodic("media processing", 2.0, (process_due,))


async def attempt(runtime: Runtime, doc: dict[str, Any]) -> bool:
    """Claim the record's next attempt and make it; False when another replica has it."""
    number = doc["attempts"] + 1
    claims = runtime.document_db[store.CLAIMS]
    if not await claim(claims, f"{doc['_id']}:{number}", file_id=doc["_id"], at=stored_now()):
        return False
    if number > MAX_ATTEMPTS:  # earlier attempts died with their replica: a poisonous file
        await _give_up(runtime, doc, f"gave up after {MAX_ATTEMPTS} attempts")
        return True
    fields = {"attempts": number, "due_at": stored_now() + LEASE}
    written = await runtime.document_db[store.MEDIA].update_one(
        {"_id": doc["_id"], "state": MediaState.PENDING}, {"$set": fields}
    )
    if not written.matched_count:
        return True  # dropped or deleted meanwhile
    doc = {**doc, **fields}
    try:
        await _process(runtime, doc)
    except ObjectMissing:
        await _give_up(runtime, doc, "the file's bytes are gone")
    except Exception as exc:
        log.exception("media %s: attempt %d failed", doc["_id"], number)
        if number >= MAX_ATTEMPTS:
            await _give_up(runtime, doc, f"could not be processed: {type(exc).__name__}")
        else:
            later = stored_now() + RETRY_AFTER * 2 ** (number - 1)
            await runtime.document_db[store.MEDIA].update_one(
                {"_id": doc["_id"], "state": MediaState.PENDING}, {"$set": {"due_at": later}}
            )
    return True


async def _give_up(runtime: Runtime, doc: dict[str, Any], reason: str) -> None:
    log.warning("media %s failed: %s", doc["_id"], reason)
    await move(runtime, doc, MediaState.FAILED, reason=reason, processed_at=stored_now())
    await runtime.document_db[store.CLAIMS].delete_many({"file_id": doc["_id"]})


async def _process(runtime: Runtime, doc: dict[str, Any]) -> None:
    """Fetch the bytes, process them off the event loop, store the renditions, record it."""
    store_ = runtime.object_store
    if doc["size"] > LIMITS.max_bytes:  # not even fetched
        result = generic(f"too large: {doc['size']} bytes over {LIMITS.max_bytes}")
    else:
        with tempfile.TemporaryDirectory(prefix="quckchat-media-") as folder:
            path = Path(folder) / "original"
            await _fetch(store_, doc["source_key"], path)
            result = await asyncio.to_thread(process, path, doc["content_type"], LIMITS)
    renditions = []
    for made in result.renditions:
        key = store.rendition_key(doc["_id"], made.kind)
        await store_.put(key, made.data, content_type=made.content_type)
        renditions.append(
            {
                "name": made.kind,
                "content_type": made.content_type,
                "size": len(made.data),
                "width": made.width,
                "height": made.height,
            }
        )
    moved = await move(
        runtime,
        doc,
        MediaState.GENERIC if result.generic else MediaState.PROCESSED,
        **_learnt(result),
        renditions=renditions,
        processed_at=stored_now(),
    )
    if moved is None:  # dropped or deleted while it was processed: what it wrote goes too
        await store_.delete_prefix(store.rendition_folder(doc["_id"]))
        return
    await runtime.document_db[store.CLAIMS].delete_many({"file_id": doc["_id"]})
    log.info("media %s %s (%d renditions)", doc["_id"], moved["state"], len(renditions))


def _learnt(result: Processed) -> dict[str, Any]:
    text = result.text or ""
    kept = capped_text(text)
    return {
        "reason": result.reason,
        "width": result.width,
        "height": result.height,
        "duration": result.duration,
        "blurhash": result.blurhash,
        "had_location": result.had_location,
        "location_stripped": any(r.kind == SANITIZED for r in result.renditions),
        "text": kept or None,
        "text_length": len(text),
        "text_truncated": len(kept) < len(text),
    }


async def _fetch(store_: ObjectStore, key: str, path: Path) -> None:
    """Stream the object to `path`, a chunk at a time (never the whole file in memory)."""
    handle = await asyncio.to_thread(path.open, "wb")
    try:
        async for chunk in store_.stream(key):
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)


async def forget(runtime: Runtime, file_id: str) -> None:
    """The file is deleted: its renditions go, and its record becomes a tombstone (so a late
    or redelivered file.ready brings nothing back). Again: nothing more happens."""
    now = stored_now()
    tombstone = {
        "state": MediaState.DELETED,
        "deleted_at": now,
        "changed_at": now,
        "published": True,
    }
    await runtime.document_db[store.MEDIA].replace_one({"_id": file_id}, tombstone, upsert=True)
    await runtime.object_store.delete_prefix(store.rendition_folder(file_id))
    await runtime.document_db[store.CLAIMS].delete_many({"file_id": file_id})


async def forget_tombstones(runtime: Runtime) -> int:
    """Tombstones past any redelivery of their file's events go."""
    cutoff = stored_now() - TOMBSTONE_KEPT
    gone = await runtime.document_db[store.MEDIA].delete_many(
        {"state": MediaState.DELETED, "deleted_at": {"$lte": cutoff}}
    )
    return int(gone.deleted_count)
