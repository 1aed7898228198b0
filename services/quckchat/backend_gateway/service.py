"""The backend gateway: the public REST API in front of every service (port 3000)."""

from __future__ import annotations

import asyncio

from quckchat.backend_gateway import idempotency, routes
from quckchat.core import logging as qlog
from quckchat.core.runtime import Runtime
from quckchat.core.service import Service

PURGE_EVERY_SECONDS = 3600
log = qlog.get("gateway")


async def _purge_idempotency_keys(runtime: Runtime) -> None:
    assert runtime.db is not None
    while True:
        try:
            removed = await idempotency.purge_expired(runtime.db)
            if removed:
                log.info("forgot %d expired idempotency keys", removed)
        except Exception:
            log.warning("purging idempotency keys failed; will retry", exc_info=True)
        await asyncio.sleep(PURGE_EVERY_SECONDS)


service = Service(routers=[routes.router], background=[_purge_idempotency_keys])
