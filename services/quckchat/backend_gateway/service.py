"""The backend gateway: the public REST API in front of every service (port 3000)."""

from __future__ import annotations

from quckchat.backend_gateway import idempotency, join_page, realtime_entry, routes
from quckchat.core import logging as qlog
from quckchat.core.periodic import Periodic
from quckchat.core.runtime import Runtime
from quckchat.core.service import Service

PURGE_EVERY_SECONDS = 3600
log = qlog.get("gateway")


async def purge_idempotency_keys(runtime: Runtime) -> None:
    assert runtime.db is not None
    removed = await idempotency.purge_expired(runtime.db)
    if removed:
        log.info("forgot %d expired idempotency keys", removed)


service = Service(
    # The WebSocket first: the REST proxy's catch-all takes every other /api/v1 path.
    routers=[realtime_entry.router, join_page.router, routes.router],
    periodic=[Periodic("purge idempotency keys", PURGE_EVERY_SECONDS, (purge_idempotency_keys,))],
)
