"""How a user's presence changes: read, compute, take the next version, announce.

What others see follows from the chosen status and the live devices. A change is computed on
the stored document and written as its next version (store.py); the one writer whose insert
took that version announces it, so a change of what others see goes out once however many
requests and sweeping replicas compute it at the same moment. A writer that lost computes its
change again on the version that won.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.presence import announce, devices, store
from quckchat.presence.schemas import Status

# From the stored document and the time, the fields to write; None: nothing to do.
Change = Callable[[dict[str, Any], datetime], dict[str, Any] | None]


def effective(doc: dict[str, Any], live: Status, now: datetime) -> Status:
    """What others see: offline without a device or when invisible; the chosen status
    (while a do-not-disturb lasts); else what the devices say."""
    chosen = Status(doc["status"])
    if Status.OFFLINE in (live, chosen):
        return Status.OFFLINE
    if chosen is Status.DND and (doc["dnd_until"] is None or doc["dnd_until"] > now):
        return Status.DND
    if chosen is Status.AWAY:
        return Status.AWAY
    return live


def shown(doc: dict[str, Any] | None, now: datetime) -> Status:
    """The stored status, but offline once the heartbeats stopped, before the sweeper ran."""
    if doc is None or doc["beat_at"] is None:
        return Status.OFFLINE
    if doc["beat_at"] <= now - timedelta(seconds=devices.DEVICE_TTL):
        return Status.OFFLINE
    return Status(doc["effective"])


async def apply(runtime: Runtime, user_id: str, tenant: str, change: Change) -> dict[str, Any]:
    """Apply `change` to the user's presence and announce what others see if it changed."""

    async def fields_of(doc: dict[str, Any]) -> dict[str, Any] | None:
        now = utcnow()
        fields = change(doc, now)
        if fields is None:
            return None
        live = devices.live_status(await devices.alive(runtime.cache, user_id))
        was, new = Status(doc["effective"]), effective({**doc, **fields}, live, now)
        if was is new is Status.OFFLINE:
            fields.pop("last_seen", None)  # invisible (or gone): last seen stays where it was
        else:
            fields.setdefault("last_seen", now)
        fields["effective"] = new.value
        if new is not was:
            fields.update(pending=True, change_version=doc["version"] + 1, tried_at=now)
        return fields

    doc = await store.load(runtime, user_id, tenant)
    doc, won = await store.change(runtime, doc, fields_of)
    if won and doc["change_version"] == doc["version"]:
        await announce.OUTBOX.publish(runtime, doc)
    return doc


def heartbeat(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"beat_at": now}


def recount(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Nothing chosen changed; the devices may have (one disconnected)."""
    return {}


def choose(status: Status, dnd_until: datetime | None) -> Change:
    def change(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
        return {"status": status.value, "dnd_until": dnd_until}

    return change


def went_silent(doc: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """Offline, last seen at the last heartbeat: unless it is done, or a heartbeat came."""
    beat_at = doc["beat_at"]
    stale = beat_at is not None and beat_at <= now - timedelta(seconds=devices.DEVICE_TTL)
    if doc["effective"] == Status.OFFLINE.value or not stale:
        return None
    return {"last_seen": beat_at}


def dnd_ended(doc: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    until = doc["dnd_until"]
    if doc["status"] != Status.DND.value or until is None or until > now:
        return None
    return {"status": Status.ONLINE.value, "dnd_until": None}
