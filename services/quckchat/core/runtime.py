"""The live connections of one running service: database, cache, events, HTTP, token keys."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.catalog import ServiceSpec, Store
from quckchat.core import cache as cache_mod
from quckchat.core import metrics, migrations
from quckchat.core import outbox as outbox_mod
from quckchat.core.documents import Documents
from quckchat.core.errors import Problem
from quckchat.core.events import DomainEvent, Event, EventBus, InProcessBus, KafkaBus
from quckchat.core.http import ServiceClient
from quckchat.core.objects import ObjectStore, objects_for
from quckchat.core.periodic import nudge
from quckchat.core.settings import Settings
from quckchat.core.sql import Database
from quckchat.core.tokens import TokenVerifier

Check = Callable[[], Awaitable[None]]


@dataclass
class Runtime:
    spec: ServiceSpec
    settings: Settings
    db: Database | None
    cache: Redis
    events: EventBus
    http: ServiceClient
    tokens: TokenVerifier
    documents: Documents | None = None
    # File bytes and previews (services whose catalog entry names the object store).
    objects: ObjectStore | None = None
    # The SQL services' transactional outbox (None for a service without SQL tables).
    outbox: outbox_mod.Outbox | None = None
    started_at: float = field(default_factory=time.monotonic)
    stopping: bool = False
    # Service-specific singletons (a policy enforcer, a key ring) set by startup hooks.
    state: dict[str, Any] = field(default_factory=dict)
    # Health of stores a service opens itself (search's Elasticsearch), by dependency name.
    extra_checks: dict[str, Check] = field(default_factory=dict)

    @property
    def document_db(self) -> Any:
        """The service's document database (PyMongo's async API); 503 where none is set."""
        if self.documents is None:
            raise Problem(503, f"the {self.spec.name} document store is not configured")
        return self.documents.db

    @property
    def object_store(self) -> ObjectStore:
        """The service's object store; 503 where none is set."""
        if self.objects is None:
            raise Problem(503, "the object store is not configured")
        return self.objects

    def health_checks(self) -> dict[str, Check]:
        checks: dict[str, Check] = {}
        if self.db is not None:
            checks["database"] = self.db.ping
        if self.documents is not None:
            checks["documents" if self.db is not None else "database"] = self.documents.ping
        checks["redis"] = lambda: cache_mod.ping(self.cache)
        checks["kafka"] = self.events.ping
        if self.objects is not None:
            checks["objects"] = self.objects.ping
        checks.update(self.extra_checks)
        return checks

    async def emit(
        self,
        event: DomainEvent,
        *,
        tenant: str | None,
        session: AsyncSession | None = None,
        event_id: str | None = None,
    ) -> Event:
        """Announce a change on this service's topic, keyed for per-entity order.

        A SQL service passes the session of the change: the event is stored with it and
        published after commit (`core/outbox`). Others publish now, after their write.
        `event_id` makes a re-publication of the same change the same event, so consumers
        that drop duplicates by id apply it once.
        """
        envelope = Event.of(event, source=self.spec.name, tenant=tenant, id=event_id)
        if self.outbox is not None:
            if session is None:
                raise RuntimeError(f"{event.type}: a SQL service emits in the change's session")
            await outbox_mod.stage(session, self.outbox.table, envelope)
            return envelope
        await self.events.publish(self.spec.topic, envelope)
        metrics.EVENTS_PUBLISHED.labels(self.spec.name, envelope.type).inc()
        return envelope

    @property
    def uptime(self) -> int:
        return int(time.monotonic() - self.started_at)


def build(spec: ServiceSpec, settings: Settings) -> Runtime:
    """Connect to the stores the catalog names for the service (embedded where unset)."""
    db = Database(settings.effective_database_url()) if spec.relational_store else None
    cache = cache_mod.connect(settings.redis_url)
    bus: EventBus
    if settings.kafka_bootstrap:
        bus = KafkaBus(
            settings.kafka_bootstrap,
            client_id=spec.name,
            prefix=settings.kafka_topic_prefix,
            publish_timeout=settings.kafka_publish_timeout_seconds,
        )
    else:
        bus = InProcessBus(prefix=settings.kafka_topic_prefix)
    http = ServiceClient(settings, caller=spec.name)

    async def fetch_jwks() -> Any:
        return await http.json("auth", "GET", "/.well-known/jwks.json")

    tokens = TokenVerifier(
        fetch_jwks,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        cache=cache,
    )
    documents = None
    if Store.MONGODB in spec.stores:
        documents = Documents(
            settings.mongodb_url,
            database=spec.module,
            snapshot=settings.data_dir / f"{spec.name}.documents.json",
        )
    outbox = None
    metadata = migrations.metadata_of(spec.name) if db is not None else None
    table = metadata.tables.get(outbox_mod.table_name(spec.module)) if metadata else None
    if db is not None and table is not None:
        outbox = outbox_mod.Outbox(db, table, bus, spec.topic)
        db.after_commit = outbox.after_commit
    objects = objects_for(settings) if Store.OBJECTS in spec.stores else None
    runtime = Runtime(
        spec,
        settings,
        db,
        cache,
        bus,
        http,
        tokens,
        documents=documents,
        objects=objects,
        outbox=outbox,
    )
    if outbox is not None:
        outbox.wake = lambda: nudge(runtime, outbox_mod.RELAY)
    return runtime


async def check_all(runtime: Runtime) -> dict[str, str]:
    """Run every dependency check at once, each bounded by the health timeout."""
    checks = runtime.health_checks()

    async def one(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), runtime.settings.health_timeout_seconds)
        except Exception:
            return "unhealthy"
        return "healthy"

    results = await asyncio.gather(*(one(c) for c in checks.values()))
    return dict(zip(checks, results, strict=True))


__all__ = ["Runtime", "Store", "build", "check_all"]
