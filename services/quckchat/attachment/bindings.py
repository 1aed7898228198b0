"""Which message carries which file, kept from the message and file services' events, and the
files given back once no message carries them.

Delivery is at least once, late, and in no order between channels; two replicas may handle
events of one file at once. Every effect is idempotent on its own: a binding is inserted
under its own id, a removed message and a gone file are recorded before the bindings they
affect are touched (and a binding made later looks at those records after its insert, so one
of the two sides always sees the other), and a file is released by the release job only when
no binding of it is left, through the file service's idempotent release.

Each change is announced (attachment/events.py) by the document that records it, its own
outbox entry: a binding announces `attachment.bound`, a gone file's record `attachment.hidden`,
and the tombstone a binding leaves when its message goes (written before the binding is
deleted) `attachment.unbound`, each under the event id stored in it (the same on every try).
The writer publishes after its write; the relay whatever that left unpublished. Consumers
take them in any order (a binding may be announced after its file's `hidden`): the search
service keeps removal records of its own.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from quckchat.attachment import store
from quckchat.attachment.events import AttachmentBound, AttachmentHidden, AttachmentUnbound
from quckchat.core import logging as qlog
from quckchat.core.documents import stored_now
from quckchat.core.events import DomainEvent, Event
from quckchat.core.outbox import DocumentOutbox
from quckchat.core.periodic import Periodic
from quckchat.core.runtime import Runtime
from quckchat.core.sql import new_id
from quckchat.file import client as file_client
from quckchat.file.events import FileDeleted, FileEvent, FileQuarantined
from quckchat.message.events import GONE, MessageCreated

log = qlog.get("attachment.bindings")
# A forward's `message.created` may arrive after its original's deletion (another channel,
# another partition): a release waits `attachment_release_grace_seconds` for such a binding.
RELEASE_SECONDS = 5.0
BATCH = 100
FILE_GONE: dict[str, type[FileEvent]] = {kind.type: kind for kind in (FileDeleted, FileQuarantined)}
# What `gone` says of a binding whose file went, by the file event's type.
GONE_REASON = {FileDeleted.type: "deleted", FileQuarantined.type: "quarantined"}


async def _insert(collection: Any, doc: dict[str, Any]) -> bool:
    """Whether this call wrote it (False: there already, a repeat or another replica's)."""
    with contextlib.suppress(DuplicateKeyError):
        await collection.insert_one(doc)
        return True
    return False


async def _bound(runtime: Runtime, doc: dict[str, Any]) -> list[tuple[str, DomainEvent]]:
    return [(doc["event_id"], AttachmentBound.of_binding(doc))]


async def _unbound(runtime: Runtime, doc: dict[str, Any]) -> list[tuple[str, DomainEvent]]:
    unbound = AttachmentUnbound(
        binding_id=doc["_id"],
        file_id=doc["file_id"],
        message_id=doc["message_id"],
        channel_id=doc["channel_id"],
    )
    return [(doc["event_id"], unbound)]


async def _hidden(runtime: Runtime, doc: dict[str, Any]) -> list[tuple[str, DomainEvent]]:
    return [(doc["event_id"], AttachmentHidden(file_id=doc["_id"], reason=doc["reason"]))]


# `stored_at`, not `created_at`: a binding's `created_at` is its message's, old for a late event.
BOUND = DocumentOutbox("attachment bound outbox", store.BINDINGS, _bound, since="stored_at")
UNBOUND = DocumentOutbox("attachment unbound outbox", store.UNBOUND, _unbound, since="at")
HIDDEN = DocumentOutbox("attachment hidden outbox", store.GONE_FILES, _hidden, since="at")
OUTBOXES = (BOUND, UNBOUND, HIDDEN)


async def bind(runtime: Runtime, created: MessageCreated, tenant: str | None) -> None:
    """Record each file the new message carries (a repeat records nothing more)."""
    message = created.message
    if not message.attachments:
        return
    db = runtime.document_db
    for attachment in message.attachments:
        doc = {
            "_id": store.binding_id(message.id, attachment.id),
            "file_id": attachment.id,
            "message_id": message.id,
            "channel_id": message.channel_id,
            "workspace_id": message.workspace_id,
            "tenant": tenant,
            "sender_id": message.sender_id,
            "name": attachment.name,
            "size": attachment.size,
            "content_type": attachment.content_type,
            "created_at": message.created_at,
            "forwarded": message.forwarded is not None,
            "gone": None,
            "published": False,
            "event_id": new_id(),
            "stored_at": stored_now(),
        }
        if await _insert(db[store.BINDINGS], doc):
            await BOUND.publish(runtime, doc)
    if await db[store.REMOVED].find_one({"_id": message.id}) is not None:
        await unbind(runtime, message.id)  # removed before this (late) event: undo it
        return
    file_ids = [a.id for a in message.attachments]
    async for gone in db[store.GONE_FILES].find({"_id": {"$in": file_ids}}):
        await _mark_gone(runtime, gone["_id"], gone["reason"])


async def unbind(runtime: Runtime, message_id: str) -> None:
    """The message is gone: its bindings go, and each of its files becomes a candidate for
    release."""
    db = runtime.document_db
    await _insert(db[store.REMOVED], {"_id": message_id, "at": stored_now()})
    bound = await db[store.BINDINGS].find({"message_id": message_id}).to_list(None)
    due = stored_now() + timedelta(seconds=runtime.settings.attachment_release_grace_seconds)
    # The candidate is written before the binding goes and decided later by counting what is
    # left: of two racing last deletions, whichever ends last leaves the count at zero.
    tombstones = []
    for binding in bound:
        await _insert(
            db[store.RELEASES],
            {
                "_id": store.release_id(binding["file_id"], message_id),
                "file_id": binding["file_id"],
                "message_id": message_id,
                "due_at": due,
            },
        )
        tombstone = {
            "_id": binding["_id"],
            "file_id": binding["file_id"],
            "message_id": message_id,
            "channel_id": binding["channel_id"],
            "tenant": binding.get("tenant"),
            "at": stored_now(),
            "published": False,
            "event_id": new_id(),
        }
        if await _insert(db[store.UNBOUND], tombstone):
            tombstones.append(tombstone)
    await db[store.BINDINGS].delete_many({"message_id": message_id})
    for tombstone in tombstones:
        await UNBOUND.publish(runtime, tombstone)


async def _mark_gone(runtime: Runtime, file_id: str, reason: str) -> None:
    await runtime.document_db[store.BINDINGS].update_many(
        {"file_id": file_id, "gone": None}, {"$set": {"gone": reason}}
    )


async def file_gone(runtime: Runtime, file_id: str, reason: str, tenant: str | None) -> None:
    """The file was deleted or quarantined: no longer listed, nor served to anyone."""
    record = {
        "_id": file_id,
        "reason": reason,
        "tenant": tenant,
        "at": stored_now(),
        "published": False,
        "event_id": new_id(),
    }
    written = await _insert(runtime.document_db[store.GONE_FILES], record)
    await _mark_gone(runtime, file_id, reason)
    if written:
        await HIDDEN.publish(runtime, record)


async def on_event(runtime: Runtime, event: Event) -> None:
    """Consumer of the message and file topics."""
    if event.type == MessageCreated.type:
        created = MessageCreated.parse(event)
        if created is not None:
            await bind(runtime, created, event.tenant)
        return
    if (removal := GONE.get(event.type)) is not None:
        removed = removal.parse(event)
        if removed is not None:
            await unbind(runtime, removed.message_id)
        return
    kind = FILE_GONE.get(event.type)
    changed = None if kind is None else kind.parse(event)
    if changed is not None:
        await file_gone(runtime, changed.file_id, GONE_REASON[event.type], event.tenant)


async def _decide(runtime: Runtime, candidate: dict[str, Any]) -> None:
    """Release the file unless a message still carries it; then the candidate is done."""
    db = runtime.document_db
    file_id = candidate["file_id"]
    # A deletion cut short between its candidate and its bindings' removal is finished here.
    await db[store.BINDINGS].delete_many(
        {"message_id": candidate["message_id"], "file_id": file_id}
    )
    if await db[store.BINDINGS].find_one({"file_id": file_id}, {"_id": 1}) is None:
        await file_client.release_file(runtime.http, file_id)
    # Another message holding the file writes a candidate of its own when it goes.
    await db[store.RELEASES].delete_one({"_id": candidate["_id"]})


async def release_due(runtime: Runtime) -> int:
    """Decide the candidates whose wait is over; each replica may decide one too (a file
    released twice is released once). How many were due."""
    releases = runtime.document_db[store.RELEASES]
    due = releases.find({"due_at": {"$lte": stored_now()}}).sort("due_at", 1).limit(BATCH)
    found: list[dict[str, Any]] = await due.to_list(None)
    for candidate in found:
        try:
            await _decide(runtime, candidate)
        except Exception:  # the file service away, say: the candidate waits for the next run
            log.exception("file %s: release not decided; tried again", candidate["file_id"])
    return len(found)


RELEASE_JOB = Periodic("attachment releases", RELEASE_SECONDS, (release_due,))
