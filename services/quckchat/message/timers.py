"""What the message service does on time, safely with several replicas running.

Each replica runs every timer; which one acts on an item is decided by a claim
(`store.take`, a unique insert), since conditional updates can have several winners on FerretDB.

- Scheduled messages: each is claimed by one replica (or cancelled by its sender, under the
  same claim), then posted with a client id derived from it, so a replica that dies mid-post is
  replaced, once its claim's lease runs out, by another whose post is the same message.
- Disappearing messages: claimed, announced with `message.expired`, then emptied to a
  tombstone that keeps the seq (so it is never given to another message).
- The outbox (`logic.OUTBOX`, run by its own job): messages whose `message.created` could not
  be published are claimed and published again under the same event id.
- The claims' sweep, every few minutes: a claim long past its lease is removed once the work it
  guarded is recorded where it was done (a job's status, a message's flags, a reaction gone), so
  nothing looks at it again and its removal cannot make that work happen twice.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING

from quckchat.channel.client import membership
from quckchat.core import logging as qlog
from quckchat.core.errors import Problem
from quckchat.core.periodic import Periodic
from quckchat.core.runtime import Runtime
from quckchat.core.sql import new_id, utcnow
from quckchat.core.tokens import Principal
from quckchat.message import events, store
from quckchat.message.logic import Draft, checked_attachments, post
from quckchat.message.schemas import ScheduledCreate

log = qlog.get("message.timers")

TICK_SECONDS = 1.0
CLAIM_LEASE = timedelta(seconds=60)  # a claim older than this was lost with its replica
UNSTORED_GRACE = timedelta(minutes=1)  # a send lists its expiry, then stores the message
BATCH = 200
# Far beyond any lease: no holder of a claim this old is still at work.
CLAIM_RETENTION = timedelta(days=1)
SWEEP_SECONDS = 600.0
SWEEP_PAGES = 10  # per run, so a backlog never holds up the other timers for long
SWEEP_STATE = "message.timers.sweep"  # (when the next sweep is due, where it resumes)


async def schedule(runtime: Runtime, principal: Principal, body: ScheduledCreate) -> dict[str, Any]:
    """Keep a message to post at `scheduled_at`; the sender must be able to post there now."""
    member = await membership(runtime, body.channel_id, principal.user_id)
    member.require_post()
    if body.scheduled_at <= utcnow():
        raise Problem(422, "scheduled_at is in the past; send it now instead", slug="past-schedule")
    if not body.text.strip() and not body.attachments:
        raise Problem(422, "a message needs text or an attachment", slug="empty-message")
    file_ids = tuple(a.id for a in body.attachments)
    # Checked now so a bad file is told at once; checked again when it is posted.
    await checked_attachments(runtime, member, principal.user_id, file_ids)
    doc = {
        "_id": new_id(),
        "tenant": principal.tenant,
        "sender_id": principal.user_id,
        "channel_id": body.channel_id,
        "text": body.text,
        "attachments": [{"id": file_id} for file_id in file_ids],
        "parent_id": body.parent_id,
        "quote_id": body.quote_id,
        "priority": body.priority,
        "due_at": body.scheduled_at,
        "status": "pending",
        "claimed_at": None,
        "message_id": None,
        "error": None,
        "created_at": utcnow(),
    }
    await runtime.document_db[store.SCHEDULED].insert_one(doc)
    return doc


async def list_scheduled(runtime: Runtime, principal: Principal) -> list[dict[str, Any]]:
    query = {"sender_id": principal.user_id, "status": {"$in": ["pending", "sending"]}}
    cursor = runtime.document_db[store.SCHEDULED].find(query).sort("due_at", ASCENDING)
    found: list[dict[str, Any]] = await cursor.limit(BATCH).to_list(None)
    return found


async def cancel_scheduled(runtime: Runtime, principal: Principal, scheduled_id: str) -> bool:
    """Cancel a pending one; False when there is none of the caller's by that id, or it is
    being posted (the cancel and the post take the same claim)."""
    scheduled = runtime.document_db[store.SCHEDULED]
    pending = {"_id": scheduled_id, "sender_id": principal.user_id, "status": "pending"}
    if await scheduled.find_one(pending) is None:
        return False
    if not await store.take(runtime, f"scheduled.{scheduled_id}", CLAIM_LEASE):
        return False
    await scheduled.update_one({"_id": scheduled_id}, {"$set": {"status": "cancelled"}})
    return True


async def post_due(runtime: Runtime) -> int:
    """Post the scheduled messages that are due and this replica claims; how many it posted."""
    scheduled = runtime.document_db[store.SCHEDULED]
    now = utcnow()
    due = {
        "$or": [
            {"status": "pending", "due_at": {"$lte": now}},
            {"status": "sending", "claimed_at": {"$lte": now - CLAIM_LEASE}},
        ]
    }
    jobs = await scheduled.find(due).sort("due_at", ASCENDING).limit(BATCH).to_list(None)
    handled = 0
    for job in jobs:
        if not await store.take(runtime, f"scheduled.{job['_id']}", CLAIM_LEASE):
            continue
        handled += 1
        await scheduled.update_one(
            {"_id": job["_id"]}, {"$set": {"status": "sending", "claimed_at": utcnow()}}
        )
        principal = Principal(
            user_id=job["sender_id"], session_id="scheduler", tenant=job["tenant"]
        )
        draft = Draft(
            channel_id=job["channel_id"],
            text=job["text"],
            file_ids=tuple(a["id"] for a in job["attachments"]),
            client_id=f"scheduled.{job['_id']}",
            parent_id=job.get("parent_id"),
            quote_id=job.get("quote_id"),
            priority=job.get("priority", "standard"),
        )
        outcome: dict[str, Any]
        try:
            message, _ = await post(runtime, principal, draft)
            outcome = {"status": "sent", "message_id": message["_id"]}
        except Problem as problem:  # the sender left the channel, it was archived...
            outcome = {"status": "failed", "error": problem.detail}
        await scheduled.update_one({"_id": job["_id"]}, {"$set": outcome})
    return handled


# What an expired message keeps: enough to hold its seq and be told apart, no content.
TOMBSTONE: dict[str, Any] = {
    "expired": True,
    "expires_at": None,
    "text": "",
    "mentions": [],
    "mention_channel": False,
    "quote": None,
    "forwarded": None,
    "attachments": [],
    "history": [],
}


async def expire_due(runtime: Runtime) -> int:
    """Announce the disappearing messages whose time is up and empty them; how many this
    replica claimed."""
    messages = runtime.document_db[store.MESSAGES]
    expiring = runtime.document_db[store.EXPIRING]
    now = utcnow()
    listed = expiring.find({"expires_at": {"$lte": now}}).sort("expires_at", ASCENDING)
    handled = 0
    for entry in await listed.limit(BATCH).to_list(None):
        doc = await messages.find_one({"_id": entry["_id"]})
        if doc is None or doc.get("expired"):
            # Expired already, or a send that failed after listing it (give it time to store).
            if doc is not None or entry["at"] < now - UNSTORED_GRACE:
                await expiring.delete_one({"_id": entry["_id"]})
            continue
        # A replica that died after claiming is replaced once the lease runs out; it announces
        # under the same event id.
        if not await store.take(runtime, f"{doc['_id']}.expired", CLAIM_LEASE):
            continue
        handled += 1
        expired = events.MessageExpired(
            workspace_id=doc["workspace_id"],
            channel_id=doc["channel_id"],
            message_id=doc["_id"],
            seq=doc["seq"],
            actor=doc["sender_id"],
        )
        await runtime.emit(
            expired,
            tenant=doc.get("tenant"),
            event_id=f"{doc['_id']}.expired",
        )
        await messages.update_one({"_id": doc["_id"]}, {"$set": TOMBSTONE})
        await runtime.document_db[store.REACTIONS].delete_many({"message_id": doc["_id"]})
        await expiring.delete_one({"_id": doc["_id"]})
    return handled


# The subjects `store.take` claims (each key ends in `#<attempt>`), and what each guards.
TAKEN = re.compile(
    r"^(?:scheduled\.(?P<job>.+)"
    r"|(?P<message>.+)\.(?:(?P<kind>outbox|expired|deleted)|edited\.(?P<edit>\d+)))#\d+$"
)
FINISHED_JOBS = ("sent", "failed", "cancelled")
# What of each guarding record the sweep reads.
RECORD_FIELDS = {
    store.SCHEDULED: {"status": 1},
    store.MESSAGES: {"published": 1, "expired": 1, "deleted_at": 1, "history": 1},
    store.REACTIONS: {"_id": 1},
}


def _guarded_by(claim: dict[str, Any]) -> tuple[str, str] | None:
    """The collection and id of the record that shows whether a claim's work is done; None
    for a claim this sweep does not know, which it keeps (what it guards may still happen)."""
    key: str = claim["_id"]
    if key.startswith(store.UNREACT):
        return store.REACTIONS, key.removeprefix(store.UNREACT)
    match = TAKEN.match(key)
    if match is None:
        return None
    if match["job"] is not None:
        return store.SCHEDULED, match["job"]
    return store.MESSAGES, match["message"]


def _done(claim: dict[str, Any], record: dict[str, Any] | None) -> bool:
    """Whether the record shows the claimed work done, so nothing will take the claim again."""
    key: str = claim["_id"]
    if key.startswith(store.UNREACT):
        # Removed: no remover can read its id again (a new add gets a new id).
        return record is None
    if record is None:
        return True  # jobs and messages are never removed: nothing could act on it again
    match = TAKEN.match(key)
    assert match is not None
    if match["job"] is not None:
        return record["status"] in FINISHED_JOBS
    deleted = record.get("deleted_at") is not None
    if match["kind"] == "outbox":
        return bool(record.get("published"))
    if match["kind"] == "expired":
        return bool(record.get("expired"))
    if match["kind"] == "deleted":
        # Past its retention no write races the delete, so `keep_deleted` needs it no more.
        return deleted
    # An edit is in the history, or the message is deleted (and never edited again).
    return deleted or len(record.get("history", [])) >= int(match["edit"])


async def _settled(runtime: Runtime, claims: list[dict[str, Any]]) -> list[str]:
    """The ids of the claims whose work is done, reading each kind of record in one query."""
    wanted: dict[str, set[str]] = {}
    for claim in claims:
        guarded = _guarded_by(claim)
        if guarded is not None:
            wanted.setdefault(guarded[0], set()).add(guarded[1])
    records: dict[tuple[str, str], dict[str, Any]] = {}
    for name, ids in wanted.items():
        query = {"_id": {"$in": sorted(ids)}}
        for row in await runtime.document_db[name].find(query, RECORD_FIELDS[name]).to_list(None):
            records[name, row["_id"]] = row
    return [
        claim["_id"]
        for claim in claims
        if (guarded := _guarded_by(claim)) is not None and _done(claim, records.get(guarded))
    ]


async def sweep_claims(
    runtime: Runtime, *, after: str | None = None, now: datetime | None = None
) -> tuple[int, str | None]:
    """Remove the claims past CLAIM_RETENTION whose work is recorded elsewhere, up to
    SWEEP_PAGES batches in claim id order after `after`; how many it removed, and the id to
    go on from (None once it reached the end)."""
    claims = runtime.document_db[store.CLAIMS]
    cutoff = (now or utcnow()) - CLAIM_RETENTION
    removed = 0
    for _ in range(SWEEP_PAGES):
        query: dict[str, Any] = {"at": {"$lt": cutoff}}
        if after is not None:
            query["_id"] = {"$gt": after}
        page = await claims.find(query).sort("_id", ASCENDING).limit(BATCH).to_list(None)
        settled = await _settled(runtime, page)
        if settled:
            result = await claims.delete_many({"_id": {"$in": settled}, "at": {"$lt": cutoff}})
            removed += result.deleted_count
        if len(page) < BATCH:
            return removed, None
        after = page[-1]["_id"]
    return removed, after


async def sweep_claims_when_due(runtime: Runtime) -> None:
    """The claims' sweep every SWEEP_SECONDS, and at each tick while a sweep has more to do;
    where it stopped is kept in the runtime, and a failed sweep starts over next time."""
    due_at, resume = runtime.state.get(SWEEP_STATE, (time.monotonic(), None))
    if time.monotonic() < due_at:
        return
    runtime.state[SWEEP_STATE] = (time.monotonic() + SWEEP_SECONDS, None)
    _, resume = await sweep_claims(runtime, after=resume)
    if resume:
        runtime.state[SWEEP_STATE] = (time.monotonic() + TICK_SECONDS, resume)


TIMERS = Periodic("message timers", TICK_SECONDS, (post_due, expire_due, sweep_claims_when_due))
