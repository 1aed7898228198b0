"""Broadcasts out as events on this service's topic, each naming its audience for realtime.

An event id is derived from its broadcast, so publishing again (a redelivered source event,
the outbox after a crash) repeats the same event, which realtime shows once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from quckchat.core import logging as qlog
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.event_broadcast import store

log = qlog.get("event_broadcast.publish")

SYSTEM = "system"
TICK_SECONDS = 2.0
OUTBOX_GRACE = timedelta(seconds=5)  # let the request or consumer publish first
BATCH = 200


def events_of(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(event id, key, data) for each event the broadcast makes: one per workspace for a
    system notice, else one."""
    data = {
        "broadcast_id": doc["_id"],
        "kind": doc["kind"],
        "type": doc["type"],
        "workspace_id": doc["workspace_id"],
        "channel_id": doc["channel_id"],
        "user_id": doc["user_id"],
        "role": doc["role"],
        "text": doc["text"],
        "details": doc["details"],
        "actor": doc["actor"],
        "created_at": doc["created_at"].isoformat(),
    }
    if doc["type"] == SYSTEM:
        return [
            (
                f"broadcast.{doc['_id']}.{ws}",
                ws,
                {**data, "workspace_id": ws, "audience": {"workspace_id": ws}},
            )
            for ws in doc["workspace_ids"]
        ]
    key = doc["workspace_id"] or doc["channel_id"] or doc["user_id"] or doc["_id"]
    return [(f"broadcast.{doc['_id']}", key, {**data, "audience": doc["audience"]})]


async def publish(runtime: Runtime, doc: dict[str, Any]) -> None:
    """Emit the broadcast's events, then mark it published (a failure leaves it to the outbox)."""
    for event_id, key, data in events_of(doc):
        await runtime.emit(
            f"event-broadcast.{doc['kind']}",
            key=key,
            data=data,
            tenant=doc["tenant"],
            event_id=event_id,
        )
    await store.mark_published(runtime, doc["_id"])


async def republish(runtime: Runtime) -> int:
    """Publish the stored broadcasts whose events did not go out; how many."""
    waiting = await store.unpublished(runtime, utcnow() - OUTBOX_GRACE, BATCH)
    for doc in waiting:
        await publish(runtime, doc)
    return len(waiting)
