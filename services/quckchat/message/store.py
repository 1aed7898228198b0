"""The message service's collections, their indexes, and the document shape of a message.

No transactions (FerretDB has none, and applies an update as read-then-write without
isolation): what must happen once is decided by an insert under a unique key. A send's
idempotency record is keyed by sender, channel and client id; a message by its id and by
(channel, seq), so a seq is taken by the insert that stores the message; who announces a
delete, posts a scheduled message, expires a message or removes a reaction by an insert into
`claims`. A reaction is stored anew, under a fresh id, each time it is added (unique by message,
emoji and user); a receipt is a document per (channel, user, seq), the highest one the pointer.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import OrderedDict, defaultdict
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakValueDictionary

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from quckchat.core.documents import Index, claim
from quckchat.core.errors import Problem
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow

MESSAGES = "messages"
CLAIMS = "claims"
SENDS = "sends"
READS = "reads"
DELIVERIES = "deliveries"
SCHEDULED = "scheduled"
REACTIONS = "reactions"
# One document per disappearing message still to expire: the timer scans these, not every
# message (FerretDB filters a range in its own process, after reading the whole collection).
EXPIRING = "expiring"
# The claim that says the messages stored before `expiring` existed have been listed in it.
EXPIRING_LISTED = "expiring-listed"
# The claim that removes a reaction: `unreact:<its id>`, one per time it was added.
UNREACT = "unreact:"

# A sender that loses this many races for a seq in a row is told to send again.
SEQ_ATTEMPTS = 100
SEQS_KEY = "message.seqs"


INDEXES = (
    Index(MESSAGES, (("channel_id", ASCENDING), ("seq", ASCENDING)), unique=True),
    Index(MESSAGES, (("parent_id", ASCENDING), ("seq", ASCENDING))),
    Index(MESSAGES, (("expires_at", ASCENDING),)),
    Index(MESSAGES, (("workspace_id", ASCENDING), ("_id", ASCENDING))),
    *(
        Index(receipts, keys)
        for receipts in (READS, DELIVERIES)
        for keys in (
            (("channel_id", ASCENDING), ("seq", DESCENDING)),
            (("channel_id", ASCENDING), ("user_id", ASCENDING), ("seq", DESCENDING)),
        )
    ),
    # Not the `_id`: FerretDB deletes by `_id` after reading, so a removal of one incarnation
    # would take a newer one stored under the same `_id`.
    Index(REACTIONS, (("slot", ASCENDING),), unique=True),
    Index(REACTIONS, (("message_id", ASCENDING), ("at", ASCENDING))),
)


async def list_expiring(runtime: Runtime) -> None:
    """At startup, list the disappearing messages stored before `expiring` was kept; once per
    database, marked when done: a replica that died midway leaves it to the next."""
    database = runtime.document_db
    if await database[CLAIMS].find_one({"_id": EXPIRING_LISTED}) is None:
        due = {"expires_at": {"$ne": None}, "expired": {"$ne": True}}
        async for doc in database[MESSAGES].find(due, {"expires_at": 1}):
            await will_expire(runtime, doc["_id"], doc["expires_at"])
        await claim(database[CLAIMS], EXPIRING_LISTED, at=utcnow())
    await database[CLAIMS].create_index([("at", ASCENDING)])
    await database[EXPIRING].create_index([("expires_at", ASCENDING)])
    await database[SCHEDULED].create_index([("status", ASCENDING), ("due_at", ASCENDING)])
    await database[SCHEDULED].create_index([("sender_id", ASCENDING), ("due_at", ASCENDING)])


class _Seqs:
    """This replica's last stored seq per channel, and one lock per channel: its own sends to a
    channel take seqs one at a time from there, with no query for the newest and no race among
    them; only another replica can take the seq one tries, and then the newest is read again."""

    KEPT = 50_000  # channels remembered; the least recently sent to is forgotten first

    def __init__(self) -> None:
        self.last: OrderedDict[str, int] = OrderedDict()
        self.locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()

    def lock(self, channel_id: str) -> asyncio.Lock:
        found = self.locks.get(channel_id)
        if found is None:
            found = self.locks[channel_id] = asyncio.Lock()
        return found

    def remember(self, channel_id: str, seq: int) -> None:
        self.last[channel_id] = seq
        self.last.move_to_end(channel_id)
        if len(self.last) > self.KEPT:
            self.last.popitem(last=False)


async def _newest(messages: Any, channel_id: str) -> int:
    cursor = messages.find({"channel_id": channel_id}, {"seq": 1})
    newest = await cursor.sort("seq", DESCENDING).limit(1).to_list(None)
    return int(newest[0]["seq"]) if newest else 0


async def insert_next(runtime: Runtime, doc: dict[str, Any]) -> bool:
    """Store a new message as its channel's next seq (set in `doc`); False when a message with
    its id is already stored (a concurrent retry of the same send stored it first).

    Messages are never removed (expiry leaves a tombstone), so newest + 1 taken by the unique
    (channel_id, seq) index makes seqs gapless and increasing in the order messages are stored.
    """
    messages = runtime.document_db[MESSAGES]
    channel_id = doc["channel_id"]
    seqs: _Seqs = runtime.state.setdefault(SEQS_KEY, _Seqs())
    lock = seqs.lock(channel_id)
    async with lock:
        for _ in range(SEQ_ATTEMPTS):
            last = seqs.last.pop(channel_id, None)
            doc["seq"] = (last if last is not None else await _newest(messages, channel_id)) + 1
            try:
                await messages.insert_one(doc)
            except DuplicateKeyError:
                if await messages.find_one({"_id": doc["_id"]}, {"_id": 1}) is not None:
                    return False
                continue  # another replica's send took this seq: read the newest again
            seqs.remember(channel_id, doc["seq"])
            return True
    raise Problem(503, "the channel is busy; send the message again", slug="channel-busy")


async def will_expire(runtime: Runtime, message_id: str, expires_at: datetime) -> None:
    """List the message to expire at `expires_at` (again: no change)."""
    with contextlib.suppress(DuplicateKeyError):
        await runtime.document_db[EXPIRING].insert_one(
            {"_id": message_id, "expires_at": expires_at, "at": utcnow()}
        )


async def take(runtime: Runtime, subject: str, lease: timedelta) -> bool:
    """Whether this caller does what `subject` names: True for the one whose claim insert made
    it. A claim older than `lease` was lost with its holder, so the next attempt is open."""
    claims = runtime.document_db[CLAIMS]
    now = utcnow()
    attempt = 0
    while True:
        key = f"{subject}#{attempt}"
        if await claim(claims, key, at=now):
            return True
        held = await claims.find_one({"_id": key})
        if held is None or held["at"] > now - lease:
            return False
        attempt += 1


async def give_back(runtime: Runtime, subject: str) -> None:
    """End this caller's claim on `subject` before its lease: what it claimed to do failed,
    and the next attempt need not wait out the lease."""
    attempts = {"$regex": f"^{re.escape(subject)}#[0-9]+$"}
    await runtime.document_db[CLAIMS].delete_many({"_id": attempts})


async def taken(runtime: Runtime, subject: str) -> dict[str, Any] | None:
    """The first claim on `subject`, if any (a later attempt implies the first one)."""
    found: dict[str, Any] | None = await runtime.document_db[CLAIMS].find_one(
        {"_id": f"{subject}#0"}
    )
    return found


def reaction_slot(message_id: str, emoji: str, user_id: str) -> str:
    """What holds one reaction at a time: `|` is in neither an id nor an emoji, so slots of
    different reactions never collide."""
    return f"{message_id}|{emoji}|{user_id}"


async def reactions_of(runtime: Runtime, message_ids: list[str]) -> dict[str, dict[str, list[str]]]:
    """The reactions of these messages (one query), each as {emoji: [users]} in the order they
    were added; a message without any is left out."""
    if not message_ids:
        return {}
    cursor = runtime.document_db[REACTIONS].find({"message_id": {"$in": message_ids}})
    rows = await cursor.sort([("at", ASCENDING), ("_id", ASCENDING)]).to_list(None)
    grouped: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        grouped[row["message_id"]][row["emoji"]].append(row["user_id"])
    return {message_id: dict(emojis) for message_id, emojis in grouped.items()}


async def shown(runtime: Runtime, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored messages as MessagePublic's fields, with their reactions read in one query."""
    live = [doc["_id"] for doc in docs if doc.get("deleted_at") is None]
    reactions = await reactions_of(runtime, live)
    return [public(doc, reactions.get(doc["_id"], {})) for doc in docs]


def public(doc: dict[str, Any], reactions: dict[str, list[str]]) -> dict[str, Any]:
    """A stored message with its reactions as MessagePublic's fields (what every member may
    see)."""
    deleted = doc.get("deleted_at") is not None
    return {
        "id": doc["_id"],
        "channel_id": doc["channel_id"],
        "workspace_id": doc["workspace_id"],
        "seq": doc["seq"],
        "sender_id": doc["sender_id"],
        "sender_name": doc.get("sender_name"),
        "text": "" if deleted else doc.get("text", ""),
        "mentions": [] if deleted else doc.get("mentions", []),
        "mention_channel": False if deleted else doc.get("mention_channel", False),
        "parent_id": doc.get("parent_id"),
        "reply_count": doc.get("reply_count", 0),
        "last_reply_at": doc.get("last_reply_at"),
        "quote": None if deleted else doc.get("quote"),
        "forwarded": None if deleted else doc.get("forwarded"),
        "attachments": [] if deleted else doc.get("attachments", []),
        "reactions": {} if deleted else reactions,
        "edited_at": doc.get("edited_at"),
        "deleted": deleted,
        "created_at": doc["created_at"],
        "expires_at": doc.get("expires_at"),
        "priority": doc.get("priority", "standard"),
    }


async def scan(
    runtime: Runtime, workspace_id: str, after_id: str | None, limit: int
) -> list[dict[str, Any]]:
    """Live messages of a workspace in id order after `after_id` (for rebuilding indexes)."""
    query: dict[str, Any] = {
        "workspace_id": workspace_id,
        "deleted_at": None,
        "expired": {"$ne": True},
    }
    if after_id is not None:
        query["_id"] = {"$gt": after_id}
    cursor = runtime.document_db[MESSAGES].find(query).sort("_id", ASCENDING).limit(limit)
    found: list[dict[str, Any]] = await cursor.to_list(None)
    return found
