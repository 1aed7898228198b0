"""`presence.changed` to every workspace the user is in, once per change.

The writer whose version made a change announces it after it is stored (state.py), then
clears `pending` with a version of its own. If the event cannot go out (the broker or the
workspace service away), the change stays `pending`; the sweeper retries it once its last try
is `PUBLISH_GRACE` old, and a retry is taken like any change, by the one replica whose version
sets `tried_at`. Every try uses the same event ids, `presence.{user}.{change_version}.{ws}`, so
an event that goes out again (after a failure part-way, or a try still running after
`PUBLISH_GRACE`) is dropped as a repeat by realtime.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quckchat.core import logging as qlog
from quckchat.core.errors import Problem
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.presence import store
from quckchat.presence.events import PresenceChanged
from quckchat.presence.schemas import Status
from quckchat.user import client as user_client
from quckchat.workspace.client import workspaces_of

log = qlog.get("presence.announce")


async def events_of(runtime: Runtime, doc: dict[str, Any]) -> list[tuple[str, PresenceChanged]]:
    """(event id, event) per workspace, each naming it in `workspace_id` (whose members see
    it); with no workspace, one for the user's own devices."""
    user_id, version = doc["_id"], doc["change_version"]
    workspace_ids = await workspaces_of(runtime.http, user_id)
    last_seen = (
        doc["last_seen"] if await user_client.seen_by_everyone(runtime.http, user_id) else None
    )
    targets: list[str | None] = [*workspace_ids] or [None]
    return [
        (
            f"presence.{user_id}.{version}.{ws or 'self'}",
            PresenceChanged(
                user_id=user_id,
                status=Status(doc["effective"]),
                last_seen=last_seen,
                workspace_ids=workspace_ids,
                version=version,
                actor=user_id,
                workspace_id=ws,
            ),
        )
        for ws in targets
    ]


async def publish(runtime: Runtime, doc: dict[str, Any]) -> bool:
    """Announce the document's pending change (and a new last seen to the profile), then clear
    `pending`; False, and still pending, when it could not go out."""
    try:
        if doc["effective"] == Status.OFFLINE.value and doc["last_seen"] is not None:
            await user_client.record_last_seen(runtime.http, doc["_id"], doc["last_seen"])
        for event_id, event in await events_of(runtime, doc):
            await runtime.emit(event, tenant=doc["tenant"], event_id=event_id)
    except Exception:  # the change is stored; the sweeper retries, the caller must not fail
        log.warning("presence of %s not announced yet", doc["_id"], exc_info=True)
        return False
    announced = doc["change_version"]

    async def settled(current: dict[str, Any]) -> dict[str, Any] | None:
        # A newer change is pending for its own announcement; leave it be.
        if not current["pending"] or current["change_version"] != announced:
            return None
        return {"pending": False}

    try:
        await store.change(runtime, doc, settled)
    except Problem:  # out already; still pending, so the sweeper repeats it under the same ids
        log.warning("presence of %s announced, not yet marked so", doc["_id"])
    return True


async def retry(runtime: Runtime, doc: dict[str, Any], tried_before: datetime) -> bool:
    """Announce the pending change again unless it was tried since `tried_before`, or another
    replica takes this try; whether this call announced it."""

    async def take(current: dict[str, Any]) -> dict[str, Any] | None:
        if not current["pending"] or current["tried_at"] > tried_before:
            return None
        return {"tried_at": utcnow()}

    doc, won = await store.change(runtime, doc, take)
    return won and await publish(runtime, doc)
