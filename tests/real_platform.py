"""Settings for every implemented service on the testbed's real servers, on stores of this run.

Each service gets its own SQL database on MariaDB or PostgreSQL (as its catalog entry says) and
its own document database on FerretDB; they share one Redis database (emptied first), Kafka
topics and an Elasticsearch index under a prefix of the run. Everything is dropped afterwards.
The end-to-end suite hosts the services in its own event loop; the gateway benchmark runs each
as its own `quckchat serve` process with the same settings, passed as environment variables.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from quckchat import catalog
from quckchat.catalog import ServiceSpec, Store
from quckchat.core.search import ElasticsearchBackend
from quckchat.core.settings import Settings
from quckchat.search.store import index_prefix
from tests.support import fresh_database, fresh_documents, server

SettingsFor = Callable[[ServiceSpec], Settings]
# The markers of a test that runs the platform on these servers.
EVERY_SERVER = [
    pytest.mark.mysql,
    pytest.mark.postgres,
    pytest.mark.mongodb,
    pytest.mark.redis,
    pytest.mark.kafka,
    pytest.mark.elasticsearch,
]


@asynccontextmanager
async def real_platform_settings(
    tmp: Path, *, label: str, port_offset: int, redis_db: int, **overrides: Any
) -> AsyncIterator[SettingsFor]:
    """Each implemented service's settings; `label` starts the run's topic and index prefix."""
    prefix = f"{label}{uuid.uuid4().hex[:8]}."
    base = Settings(
        redis_url=f"{server('redis').rsplit('/', 1)[0]}/{redis_db}",
        kafka_bootstrap=server("kafka"),
        kafka_topic_prefix=prefix,
        elasticsearch_url=server("elasticsearch"),
        port_offset=port_offset,
        data_dir=tmp,
        **overrides,
    )
    redis = Redis.from_url(base.redis_url or "")
    await redis.flushdb()
    await redis.aclose()
    async with AsyncExitStack() as stack:
        own: dict[str, dict[str, Any]] = {}
        for spec in catalog.implemented():
            update: dict[str, Any] = {"service": spec.name}
            store = spec.relational_store
            if store is not None:
                kind = "postgres" if store == Store.POSTGRESQL else "mysql"
                update["database_url"] = await stack.enter_async_context(fresh_database(kind, tmp))
            if Store.MONGODB in spec.stores:
                update["mongodb_url"] = await stack.enter_async_context(fresh_documents("mongodb"))
            own[spec.name] = update
        index = ElasticsearchBackend(base.elasticsearch_url or "", prefix=index_prefix(base))
        stack.push_async_callback(index.close)
        stack.push_async_callback(index.drop)

        def settings_for(spec: ServiceSpec) -> Settings:
            return base.model_copy(update=own[spec.name])

        yield settings_for


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment variables that give a `quckchat serve` process these settings."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump(exclude_defaults=True).items():
        if value is None:
            continue
        text = json.dumps(value) if isinstance(value, list | dict) else str(value)
        env[f"QUCKCHAT_{name.upper()}"] = text
    return env
