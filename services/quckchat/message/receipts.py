"""Delivery and read receipts: each member's pointer per channel, moved forward only.

A pointer is never written in place (FerretDB's read-then-write updates can move it back): each
mark inserts a document keyed by (channel, user, seq) and then removes that user's lower ones,
and the pointer is the highest one left. A delete of lower seqs never removes the highest, so
the pointer never moves back.

The insert that stores a seq announces it, once, if that seq is still the pointer right after:
announcing one seq twice would need it inserted twice, so deleted in between by the inserter of
a higher one, and that one (or a higher one still) is there when the second inserter looks. An
advance overtaken by a higher one before it is announced may go unannounced, and the
announcements of two advances may arrive out of order: clients keep the highest seq they get.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING

from quckchat.channel.client import membership
from quckchat.core.documents import claim
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.core.tokens import Principal
from quckchat.message import events, store
from quckchat.message.logic import get_for
from quckchat.message.schemas import Receipt

# Who read a message is listed for small channels; larger ones see only their own pointer.
MAX_LISTED = 50
KINDS = {"read": store.READS, "delivered": store.DELIVERIES}


async def _pointer(collection: Any, channel_id: str, user_id: str) -> int:
    """The user's highest stored seq in the channel; 0 before their first mark."""
    cursor = collection.find({"channel_id": channel_id, "user_id": user_id}, {"seq": 1})
    top = await cursor.sort("seq", DESCENDING).limit(1).to_list(None)
    return int(top[0]["seq"]) if top else 0


async def mark(runtime: Runtime, principal: Principal, channel_id: str, seq: int, kind: str) -> int:
    """Move the caller's pointer to `seq` (never back); the pointer as it now stands."""
    member = await membership(runtime, channel_id, principal.user_id)
    collection = runtime.document_db[KINDS[kind]]
    user_id = principal.user_id
    before = await _pointer(collection, channel_id, user_id)
    if seq <= before:
        return before
    stored = await claim(
        collection,
        f"{channel_id}:{user_id}:{seq}",
        channel_id=channel_id,
        user_id=user_id,
        seq=seq,
        at=utcnow(),
    )
    if stored:
        await collection.delete_many(
            {"channel_id": channel_id, "user_id": user_id, "seq": {"$lt": seq}}
        )
    pointer = await _pointer(collection, channel_id, user_id)
    if stored and pointer == seq:
        receipt = events.RECEIPTS[kind](
            workspace_id=member.workspace_id,
            channel_id=channel_id,
            user_id=user_id,
            seq=seq,
            actor=user_id,
        )
        await runtime.emit(
            receipt,
            tenant=principal.tenant,
            event_id=f"{channel_id}:{user_id}:{seq}.{kind}",
        )
    return pointer


async def _listed(collection: Any, doc: dict[str, Any]) -> list[Receipt]:
    """Up to MAX_LISTED members other than the sender whose pointer is at or past the message,
    each once (with their highest seq), by user id."""
    query = {
        "channel_id": doc["channel_id"],
        "seq": {"$gte": doc["seq"]},
        "user_id": {"$ne": doc["sender_id"]},
    }
    cursor = collection.find(query).sort([("user_id", ASCENDING), ("seq", DESCENDING)])
    found: dict[str, Receipt] = {}
    async for row in cursor:
        if row["user_id"] in found:
            continue  # a lower seq of a user whose mark has not removed it yet
        if len(found) == MAX_LISTED:
            break
        found[row["user_id"]] = Receipt(user_id=row["user_id"], seq=row["seq"], at=row["at"])
    return list(found.values())


async def receipts(
    runtime: Runtime, principal: Principal, message_id: str
) -> dict[str, list[Receipt]]:
    """Who has received and read a message, other than its sender."""
    doc, _ = await get_for(runtime, principal, message_id)
    database = runtime.document_db
    return {
        "read_by": await _listed(database[store.READS], doc),
        "delivered_to": await _listed(database[store.DELIVERIES], doc),
    }
