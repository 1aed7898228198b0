"""What the message service does on time, safely with several replicas running.

Each replica runs every timer; which one acts on an item is decided by a claim
(`store.take`, a unique insert), since conditional updates can have several winners on FerretDB.

- Scheduled messages: each is claimed by one replica (or cancelled by its sender, under the
  same claim), then posted with a client id derived from it, so a replica that dies mid-post is
  replaced, once its claim's lease runs out, by another whose post is the same message.
- Disappearing messages: claimed, announced with `message.expired`, then emptied to a
  tombstone that keeps the seq (so it is never given to another message).
- The outbox: messages whose `message.created` could not be published are claimed and
  published again under the same event id.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING

from quckchat.core import logging as qlog
from quckchat.core.errors import Problem
from quckchat.core.runtime import Runtime
from quckchat.core.sql import new_id, utcnow
from quckchat.core.tokens import Principal
from quckchat.message import store
from quckchat.message.access import membership
from quckchat.message.logic import Draft, post, publish, recount_replies
from quckchat.message.schemas import Attachment, ScheduledCreate

log = qlog.get("message.timers")

TICK_SECONDS = 1.0
CLAIM_LEASE = timedelta(seconds=60)  # a claim older than this was lost with its replica
OUTBOX_GRACE = timedelta(seconds=5)  # let the request publish first
OUTBOX_LEASE = timedelta(seconds=30)  # then retry a publish that did not go out
BATCH = 200


async def schedule(runtime: Runtime, principal: Principal, body: ScheduledCreate) -> dict[str, Any]:
    """Keep a message to post at `scheduled_at`; the sender must be able to post there now."""
    member = await membership(runtime, body.channel_id, principal.user_id)
    member.require_post()
    if body.scheduled_at <= utcnow():
        raise Problem(422, "scheduled_at is in the past; send it now instead", slug="past-schedule")
    if not body.text.strip() and not body.attachments:
        raise Problem(422, "a message needs text or an attachment", slug="empty-message")
    doc = {
        "_id": new_id(),
        "tenant": principal.tenant,
        "sender_id": principal.user_id,
        "channel_id": body.channel_id,
        "text": body.text,
        "attachments": [a.model_dump() for a in body.attachments],
        "parent_id": body.parent_id,
        "quote_id": body.quote_id,
        "due_at": body.scheduled_at,
        "status": "pending",
        "claimed_at": None,
        "message_id": None,
        "error": None,
        "created_at": utcnow(),
    }
    await store.db(runtime)[store.SCHEDULED].insert_one(doc)
    return doc


async def list_scheduled(runtime: Runtime, principal: Principal) -> list[dict[str, Any]]:
    query = {"sender_id": principal.user_id, "status": {"$in": ["pending", "sending"]}}
    cursor = store.db(runtime)[store.SCHEDULED].find(query).sort("due_at", ASCENDING)
    found: list[dict[str, Any]] = await cursor.limit(BATCH).to_list(None)
    return found


async def cancel_scheduled(runtime: Runtime, principal: Principal, scheduled_id: str) -> bool:
    """Cancel a pending one; False when there is none of the caller's by that id, or it is
    being posted (the cancel and the post take the same claim)."""
    scheduled = store.db(runtime)[store.SCHEDULED]
    pending = {"_id": scheduled_id, "sender_id": principal.user_id, "status": "pending"}
    if await scheduled.find_one(pending) is None:
        return False
    if not await store.take(runtime, f"scheduled.{scheduled_id}", CLAIM_LEASE):
        return False
    await scheduled.update_one({"_id": scheduled_id}, {"$set": {"status": "cancelled"}})
    return True


async def post_due(runtime: Runtime) -> int:
    """Post the scheduled messages that are due and this replica claims; how many it posted."""
    scheduled = store.db(runtime)[store.SCHEDULED]
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
            attachments=[Attachment.model_validate(a) for a in job["attachments"]],
            client_id=f"scheduled.{job['_id']}",
            parent_id=job.get("parent_id"),
            quote_id=job.get("quote_id"),
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
    "reactions": [],
    "history": [],
}


async def expire_due(runtime: Runtime) -> int:
    """Announce the disappearing messages whose time is up and empty them; how many this
    replica claimed."""
    messages = store.db(runtime)[store.MESSAGES]
    query = {"expires_at": {"$ne": None, "$lte": utcnow()}, "expired": {"$ne": True}}
    due = await messages.find(query).sort("expires_at", ASCENDING).limit(BATCH).to_list(None)
    handled = 0
    for doc in due:
        # A replica that died after claiming is replaced once the lease runs out; it announces
        # under the same event id.
        if not await store.take(runtime, f"{doc['_id']}.expired", CLAIM_LEASE):
            continue
        handled += 1
        await runtime.emit(
            "message.expired",
            key=doc["channel_id"],
            data={
                "workspace_id": doc["workspace_id"],
                "channel_id": doc["channel_id"],
                "message_id": doc["_id"],
                "seq": doc["seq"],
                "actor": doc["sender_id"],
            },
            tenant=doc.get("tenant"),
            event_id=f"{doc['_id']}.expired",
        )
        await messages.update_one({"_id": doc["_id"]}, {"$set": TOMBSTONE})
        if doc.get("parent_id"):
            await recount_replies(runtime, doc["parent_id"])
    return handled


async def republish(runtime: Runtime) -> int:
    """Publish the stored messages whose event did not go out; how many this replica took."""
    query = {"published": False, "created_at": {"$lte": utcnow() - OUTBOX_GRACE}}
    waiting = await store.db(runtime)[store.MESSAGES].find(query).limit(BATCH).to_list(None)
    handled = 0
    for doc in waiting:
        if await store.take(runtime, f"{doc['_id']}.outbox", OUTBOX_LEASE):
            handled += 1
            await publish(runtime, doc, doc.get("tenant"))
    return handled


async def run(runtime: Runtime) -> None:
    """The service's background loop: every tick, each timer in turn; an error waits a tick."""
    while True:
        for timer in (post_due, expire_due, republish):
            try:
                await timer(runtime)
            except Exception:  # a store hiccup must not end the loop; the next tick retries
                log.exception("message timer %s failed", timer.__name__)
        await asyncio.sleep(TICK_SECONDS)
