"""Every implemented service and the gateway on their own ports, on the real servers: SQL on
MariaDB and PostgreSQL, documents on FerretDB, Redis, Kafka and Elasticsearch, mail to the test
bed's Mailpit, and pushes to local stand-ins for FCM, APNs and a browser's push service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from quckchat import catalog
from quckchat.core.search import ElasticsearchBackend
from quckchat.core.settings import Settings
from quckchat.message.store import MESSAGES
from quckchat.runner import ServiceHost
from quckchat.search.store import index_prefix
from tests.support import OtpOutbox, running_app
from tests.worlds.mailbox import Mailbox, mailpit_url
from tests.worlds.mesh import serving
from tests.worlds.platform import (
    PushFakes,
    SettingsFor,
    delivery_settings,
    push_fakes,
    real_platform_settings,
)

# Shifted from the catalog ports (so the suite runs beside `make run`), below the
# ephemeral range (32768+) so no outgoing connection can hold one of them.
PORT_OFFSET = 10000
# A second realtime replica beside the platform's own, on the same Redis and Kafka; clients
# reach the first at the gateway's public address, the second at its own port.
EXTRA_REALTIME_REPLICAS = 1
# How long `eventually` waits on what the platform does in the background, asking through
# the gateway a few times a second.
PATIENCE: dict[str, float] = {"within": 30.0, "poll": 0.3}


@dataclass
class Platform:
    gateway: httpx.AsyncClient
    settings: Settings
    outbox: OtpOutbox
    realtime_ports: list[int]
    settings_for: SettingsFor
    push: PushFakes
    mailbox: Mailbox

    def websocket_url(self, replica: int, token: str, last_event_id: str | None = None) -> str:
        """The WebSocket address of one realtime replica, signed in with `token`: the first at
        the gateway's public address, the other at its own port."""
        if replica == 0:
            gateway = self.settings.service_url("backend-gateway").replace("http", "ws", 1)
            url = f"{gateway}/api/v1/realtime/ws?token={token}"
        else:
            url = f"ws://127.0.0.1:{self.realtime_ports[replica]}/ws?token={token}"
        return url + (f"&last_event_id={last_event_id}" if last_event_id else "")

    async def stored_messages(self, channel_id: str) -> set[str]:
        """The ids the message service keeps for the channel, read from its document database."""
        url = self.settings_for(catalog.get("message")).mongodb_url
        client: Any = AsyncMongoClient(url)
        try:
            found = client.get_default_database()[MESSAGES].find({"channel_id": channel_id})
            return {doc["_id"] for doc in await found.to_list(None)}
        finally:
            await client.close()

    async def indexed_messages(self, workspace_id: str) -> set[str]:
        """The ids the search service has indexed for the workspace, read from Elasticsearch."""
        settings = self.settings_for(catalog.get("search"))
        index = ElasticsearchBackend(
            settings.elasticsearch_url or "", prefix=index_prefix(settings)
        )
        try:
            return await index.indexed_ids(workspace_id)
        finally:
            await index.close()

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
    async with AsyncExitStack() as stack:
        push = await stack.enter_async_context(push_fakes(tmp))
        mailbox = Mailbox(mailpit_url())
        stack.push_async_callback(mailbox.aclose)
        settings_for = await stack.enter_async_context(
            real_platform_settings(
                tmp,
                label="e2e",
                port_offset=PORT_OFFSET,
                redis_db=1,
                rate_limit_per_ip=100_000,
                # No forwards race a deletion here: a deleted message's files go at once.
                attachment_release_grace_seconds=0,
                **delivery_settings(push),
            )
        )
        specs = catalog.implemented()
        base = settings_for(catalog.get("backend-gateway"))
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
        yield Platform(gateway, base, outbox, realtime_ports, settings_for, push, mailbox)
