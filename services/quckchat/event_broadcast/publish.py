"""Broadcasts out as events on this service's topic, each naming its audience for realtime.

A broadcast is its own outbox entry (`OUTBOX`, core/outbox.py): stored unpublished, announced
after, marked published. An event id is derived from its broadcast, so publishing again (a
redelivered source event, the relay after a crash) repeats the same event, which realtime
shows once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quckchat.core.events import Audience, DomainEvent
from quckchat.core.outbox import DocumentOutbox
from quckchat.core.runtime import Runtime
from quckchat.event_broadcast import store
from quckchat.event_broadcast.events import BY_KIND, Broadcast
from quckchat.event_broadcast.schemas import Kind

SYSTEM = "system"


def events_of(doc: dict[str, Any]) -> list[tuple[str, Broadcast]]:
    """(event id, event) for each event the broadcast makes: one per workspace for a system
    notice (seen by its members), else one (seen by the broadcast's audience)."""
    kind = BY_KIND[Kind(doc["kind"])]
    fields = {
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
        "created_at": doc["created_at"],
    }
    if doc["type"] == SYSTEM:
        return [
            (
                f"broadcast.{doc['_id']}.{ws}",
                kind.model_validate(
                    {**fields, "workspace_id": ws, "recipients": Audience(workspace_id=ws)}
                ),
            )
            for ws in doc["workspace_ids"]
        ]
    recipients = Audience.model_validate(doc["audience"])
    return [(f"broadcast.{doc['_id']}", kind.model_validate({**fields, "recipients": recipients}))]


async def _events(runtime: Runtime, doc: dict[str, Any]) -> Sequence[tuple[str, DomainEvent]]:
    return events_of(doc)


OUTBOX = DocumentOutbox("broadcast outbox", store.BROADCASTS, _events)
