"""The audit service: records the security events of auth, permission and admin."""

from __future__ import annotations

from quckchat.audit import chain
from quckchat.audit.routes import internal_router, router
from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.core.service import Consumer, Service


async def record(runtime: Runtime, event: Event) -> None:
    """Any event on the watched topics becomes the next entry of the chain, once."""
    assert runtime.db is not None
    await chain.append(runtime.db, event=event)


service = Service(
    routers=[router, internal_router],
    consumers=[Consumer(sources=("auth", "permission", "admin"), handler=record)],
)
