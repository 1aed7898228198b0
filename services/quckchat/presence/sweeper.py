"""The presence sweeper, run by every replica: silent users go offline and do-not-disturb
ends (changes whose event did not go out are the outbox relay's, announce.py).

Replicas may pick the same user; each change takes the document's next version by a unique
insert (store.py), so exactly one of them makes it and announces it. The sweeper also forgets
versions older than `store.KEEP_VERSIONS`.
"""

from __future__ import annotations

from datetime import timedelta

from quckchat.core import logging as qlog
from quckchat.core.periodic import Periodic
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.presence import devices, state, store
from quckchat.presence.schemas import Status

log = qlog.get("presence.sweeper")

TICK_SECONDS = 2.0
BATCH = 200


async def silence(runtime: Runtime) -> int:
    """Turn users offline whose every device stopped beating; how many were looked at."""
    cutoff = utcnow() - timedelta(seconds=devices.DEVICE_TTL)
    query = {"effective": {"$ne": Status.OFFLINE.value}, "beat_at": {"$lte": cutoff}}
    stale = await store.due(runtime, query, BATCH)
    for doc in stale:
        if not await devices.alive(runtime.cache, doc["_id"]):
            await state.apply(runtime, doc["_id"], doc["tenant"], state.went_silent)
    return len(stale)


async def end_dnd(runtime: Runtime) -> int:
    query = {"status": Status.DND.value, "dnd_until": {"$lte": utcnow()}}
    due = await store.due(runtime, query, BATCH)
    for doc in due:
        await state.apply(runtime, doc["_id"], doc["tenant"], state.dnd_ended)
    return len(due)


SWEEPS = Periodic("presence sweeps", TICK_SECONDS, (silence, end_dnd, store.forget_versions))
