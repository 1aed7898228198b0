"""`presence.changed` to every workspace the user is in, once per change.

The writer whose version made a change announces it through the document outbox after it
is stored (state.py), then clears `pending` with a version of its own. If the event cannot go
out (the broker or the workspace service away), the change stays `pending`; the outbox relay
retries it once its last try is `outbox.GRACE` old, and a retry is taken like any change, by
the one replica whose version sets `tried_at`. Every try uses the same event ids,
`presence.{user}.{change_version}.{ws}`, so an event that goes out again (after a failure
part-way, or a try still running after the grace period) is dropped as a repeat by realtime.
"""

from __future__ import annotations

from typing import Any

from quckchat.core import logging as qlog
from quckchat.core import outbox
from quckchat.core.errors import Problem
from quckchat.core.outbox import DocumentOutbox
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


async def announcements(runtime: Runtime, doc: dict[str, Any]) -> list[tuple[str, PresenceChanged]]:
    """Record a new last seen on the profile (the user service shows it), then the events."""
    if doc["effective"] == Status.OFFLINE.value and doc["last_seen"] is not None:
        await user_client.record_last_seen(runtime.http, doc["_id"], doc["last_seen"])
    return await events_of(runtime, doc)


async def _take(runtime: Runtime, doc: dict[str, Any]) -> bool:
    """This replica retries the pending change: unless it was tried within the grace period,
    or another replica's version took this try."""
    tried_before = utcnow() - outbox.GRACE

    async def take(current: dict[str, Any]) -> dict[str, Any] | None:
        if not current["pending"] or current["tried_at"] > tried_before:
            return None
        return {"tried_at": utcnow()}

    _, won = await store.change(runtime, doc, take)
    return won


async def _settle(runtime: Runtime, doc: dict[str, Any]) -> None:
    """Clear `pending`, unless a newer change waits for its own announcement."""
    announced = doc["change_version"]

    async def settled(current: dict[str, Any]) -> dict[str, Any] | None:
        if not current["pending"] or current["change_version"] != announced:
            return None
        return {"pending": False}

    try:
        await store.change(runtime, doc, settled)
    except Problem:  # out already; still pending, so the relay repeats it under the same ids
        log.warning("presence of %s announced, not yet marked so", doc["_id"])


# One document per user: its latest change is what goes out (a newer one replaces an older).
OUTBOX = DocumentOutbox(
    "presence outbox",
    store.PRESENCE,
    announcements,
    pending={"pending": True},
    since="tried_at",
    claim=_take,
    done=_settle,
)
