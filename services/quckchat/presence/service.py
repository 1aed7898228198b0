"""The presence service: online, away, do-not-disturb, last seen and typing."""

from quckchat.core.runtime import Runtime
from quckchat.core.service import Service
from quckchat.presence import store, sweeper
from quckchat.presence.routes import internal, router


async def _indexes(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime)


service = Service(routers=[router, internal], on_startup=[_indexes], periodic=[sweeper.SWEEPS])
