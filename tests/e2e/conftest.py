"""Every implemented service and the gateway on their own ports, on the real servers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from quckchat import catalog
from quckchat.catalog import ServiceSpec, Store
from quckchat.core.settings import Settings
from quckchat.runner import ServiceHost
from tests.mesh import serving
from tests.support import OtpOutbox, fresh_database, running_app, server

# Shifted from the catalog ports (so the suite runs beside `make run`), below the
# ephemeral range (32768+) so no outgoing connection can hold one of them.
PORT_OFFSET = 10000
# A second realtime replica beside the platform's own, on the same Redis and Kafka (the
# gateway proxies HTTP only, so clients connect to a realtime replica's own port).
EXTRA_REALTIME_REPLICAS = 1


@dataclass
class Platform:
    gateway: httpx.AsyncClient
    settings: Settings
    outbox: OtpOutbox
    realtime_ports: list[int]

    def websocket_url(self, replica: int, token: str, last_event_id: str | None = None) -> str:
        """The WebSocket address of one realtime replica, signed in with `token`."""
        url = f"ws://127.0.0.1:{self.realtime_ports[replica]}/ws?token={token}"
        return url + (f"&last_event_id={last_event_id}" if last_event_id else "")

    def internal(self, service: str) -> httpx.AsyncClient:
        """A client as another service would be (the operator's bootstrap calls use it)."""
        return httpx.AsyncClient(
            base_url=self.settings.service_url(service),
            headers={"X-QuckChat-Caller": "e2e-test"},
            timeout=10,
        )


@pytest.fixture(scope="module")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Platform]:
    tmp = Path(tmp_path_factory.mktemp("platform"))
    base = Settings(
        redis_url=server("redis").rsplit("/", 1)[0] + "/1",
        kafka_bootstrap=server("kafka"),
        kafka_topic_prefix=f"e2e{uuid.uuid4().hex[:8]}.",
        port_offset=PORT_OFFSET,
        data_dir=tmp,
        rate_limit_per_ip=100_000,
    )
    specs = catalog.implemented()
    # The platform's Redis database is this suite's alone: start it empty.
    redis = Redis.from_url(base.redis_url or "")
    await redis.flushdb()
    await redis.aclose()
    async with AsyncExitStack() as stack:
        urls: dict[str, str] = {}
        for spec in specs:
            store = spec.relational_store
            if store is not None:
                kind = "postgres" if store == Store.POSTGRESQL else "mysql"
                urls[spec.name] = await stack.enter_async_context(fresh_database(kind, tmp))

        def settings_for(spec: ServiceSpec) -> Settings:
            return base.model_copy(
                update={"service": spec.name, "database_url": urls.get(spec.name)}
            )

        outbox = stack.enter_context(OtpOutbox())
        host = ServiceHost(settings_for, "127.0.0.1")
        await host.start(specs)
        stack.push_async_callback(host.stop)
        realtime_ports = [settings_for(catalog.get("realtime")).port_for(catalog.get("realtime"))]
        for _ in range(EXTRA_REALTIME_REPLICAS):
            # Its own runtime, hub, stream reader and Kafka consumer, on the platform's stores.
            app, _, _ = await stack.enter_async_context(
                running_app("realtime", settings_for(catalog.get("realtime")))
            )
            realtime_ports.append(await stack.enter_async_context(serving(app)))
        gateway = await stack.enter_async_context(
            httpx.AsyncClient(base_url=base.service_url("backend-gateway") + "/api/v1", timeout=15)
        )
        yield Platform(gateway, base, outbox, realtime_ports)
