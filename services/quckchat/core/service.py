"""What a service folder hands the framework: its routers, consumers and lifecycle hooks.

Each service declares one `service = Service(...)` in `quckchat/<service>/service.py`;
`create_app` does the rest, so a new service is a catalog entry plus one folder.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter

from quckchat.core.documents import Index
from quckchat.core.outbox import DocumentOutbox
from quckchat.core.periodic import Periodic

if TYPE_CHECKING:
    from quckchat.core.events import Event
    from quckchat.core.runtime import Runtime

Hook = Callable[["Runtime"], Coroutine[Any, Any, None]]
EventHandler = Callable[["Runtime", "Event"], Awaitable[None]]
BatchHandler = Callable[["Runtime", list["Event"]], Awaitable[None]]
JwksProvider = Callable[["Runtime"], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Consumer:
    """Handle events from the topics of the named producing services."""

    sources: tuple[str, ...]
    handler: EventHandler
    # Every replica handles every event (per-replica state such as caches); else one does.
    broadcast: bool = False
    # Takes each fetched batch in one call (one transaction or bulk request for all of it,
    # each event's key order kept); `handler` serves when a batch fails, event by event.
    batch: BatchHandler | None = None


@dataclass(frozen=True)
class Service:
    routers: list[APIRouter]
    consumers: list[Consumer] = field(default_factory=list)
    # Made on the service's document store at every start, before anything reads it.
    document_indexes: tuple[Index, ...] = ()
    # Collections whose documents are their own outbox entries: the framework relays them.
    document_outboxes: tuple[DocumentOutbox, ...] = ()
    on_startup: list[Hook] = field(default_factory=list)
    on_shutdown: list[Hook] = field(default_factory=list)
    # Sweepers, timers, outbox publishing: run every so often by the framework (core/periodic).
    periodic: list[Periodic] = field(default_factory=list)
    # Loops that wait on something else (a change stream, a delivery queue), for its lifetime.
    background: list[Hook] = field(default_factory=list)
    # Where this service reads token keys from; default: the auth service's JWKS over HTTP.
    jwks: JwksProvider | None = None
