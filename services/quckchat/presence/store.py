"""The presence service's MongoDB collections: one document per user, and the versions that
moved it.

A document holds what the user chose (`status`, `dnd_until`), what others see (`effective`),
the last heartbeat (`beat_at`), the public `last_seen`, and `version`; `pending` marks a
change (`change_version`) whose event has not gone out yet, last tried at `tried_at` (see
announce.py).

Every write makes the next version, and a version is taken by a unique insert into
`presence_versions` (`{user}:{version}`, holding the whole new document): FerretDB lets two
conditional updates of one version both succeed, but only one insert of an id. The writer
whose insert made it writes the document and is the one that announces its change; a writer
that lost reads the version taken and writes it through, so a writer that stopped between its
insert and its write, or a late FerretDB write that set the document back, is caught up by the
next change. Versions are forgotten after `KEEP_VERSIONS`, far longer than any write is late.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import bson
from bson.codec_options import CodecOptions
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from quckchat.core.documents import Index, claim
from quckchat.core.errors import Problem
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.presence.schemas import Status

PRESENCE = "presence"
VERSIONS = "presence_versions"
KEEP_VERSIONS = timedelta(hours=1)
ATTEMPTS = 8

_STORED: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True)

# From the stored document, the fields of its next version; None: nothing to do.
Fields = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


# The sweeper's indexes (the outbox declares its own).
INDEXES = (
    Index(PRESENCE, (("effective", ASCENDING), ("beat_at", ASCENDING))),
    Index(PRESENCE, (("status", ASCENDING), ("dnd_until", ASCENDING))),
    Index(VERSIONS, (("at", ASCENDING),)),
)


def collection(runtime: Runtime) -> Any:
    return runtime.document_db[PRESENCE]


def versions(runtime: Runtime) -> Any:
    return runtime.document_db[VERSIONS]


def blank(user_id: str, tenant: str) -> dict[str, Any]:
    return {
        "_id": user_id,
        "tenant": tenant,
        "status": Status.ONLINE.value,
        "dnd_until": None,
        "effective": Status.OFFLINE.value,
        "beat_at": None,
        "last_seen": None,
        "version": 0,
        "pending": False,
        "change_version": 0,
        "tried_at": None,
    }


async def load(runtime: Runtime, user_id: str, tenant: str) -> dict[str, Any]:
    """The user's document, created the first time (a racing creator's copy is as good)."""
    presence = collection(runtime)
    found: dict[str, Any] | None = await presence.find_one({"_id": user_id})
    if found is not None:
        return found
    doc = blank(user_id, tenant)
    try:
        await presence.insert_one(dict(doc))
    except DuplicateKeyError:
        raced: dict[str, Any] = await presence.find_one({"_id": user_id})
        return raced
    return doc


async def find_many(runtime: Runtime, user_ids: list[str]) -> dict[str, dict[str, Any]]:
    found = await collection(runtime).find({"_id": {"$in": user_ids}}).to_list(None)
    return {doc["_id"]: doc for doc in found}


def version_id(user_id: str, version: int) -> str:
    return f"{user_id}:{version}"


async def advance(
    runtime: Runtime, doc: dict[str, Any], fields: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Take the version after `doc` with `fields`: (the new document, True) for the one writer
    whose insert took it; else (the document as the writer that took it made it, False)."""
    # As the store gives it back (milliseconds), so every reader sees the same values.
    after: dict[str, Any] = bson.decode(
        bson.encode({**doc, **fields, "version": doc["version"] + 1}), _STORED
    )
    key = version_id(doc["_id"], after["version"])
    won = await claim(
        versions(runtime), key, user_id=doc["_id"], version=after["version"], at=utcnow(), doc=after
    )
    if not won:
        taken: dict[str, Any] | None = await versions(runtime).find_one({"_id": key})
        if taken is None:  # forgotten meanwhile: long written, so the document has moved on
            return await load(runtime, doc["_id"], doc["tenant"]), False
        after = taken["doc"]
    await collection(runtime).replace_one({"_id": doc["_id"], "version": doc["version"]}, after)
    return after, won


async def change(
    runtime: Runtime, doc: dict[str, Any], fields_of: Fields
) -> tuple[dict[str, Any], bool]:
    """Write `fields_of(doc)` as the next version, computed again on the newer document after
    each lost race: (the document, whether this caller's fields made it)."""
    for _ in range(ATTEMPTS):
        fields = await fields_of(doc)
        if fields is None:
            return doc, False
        doc, won = await advance(runtime, doc, fields)
        if won:
            return doc, True
    raise Problem(409, "your presence changed at the same moment; try again", slug="busy")


async def forget_versions(runtime: Runtime) -> int:
    """Delete the versions older than `KEEP_VERSIONS`; how many went."""
    result = await versions(runtime).delete_many({"at": {"$lt": utcnow() - KEEP_VERSIONS}})
    return int(result.deleted_count)


async def due(runtime: Runtime, query: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await collection(runtime).find(query).limit(limit).to_list(None)
    return found
