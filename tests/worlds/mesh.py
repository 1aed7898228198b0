"""A mesh: several real services in one test process, reaching each other by name.

Each service runs its own app with its lifespan (its own database, its consumers); their
service clients are wired so `http://<name>` reaches that service's app in-process, and they
share one event-bus prefix, so events flow between them. Tests of a service that calls others
run the real others this way instead of stand-ins.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from quckchat.core.http import tls_context
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from quckchat.runner import WEBSOCKET_OPTIONS
from tests.support import TestKeys, running_app

# The settings of one service; `base` holds what every service of the mesh shares.
SettingsFor = Callable[[str, Settings], Settings]


@dataclass
class Mesh:
    """The running services: a client and the runtime of each, by catalog name."""

    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    runtimes: dict[str, Runtime] = field(default_factory=dict)
    apps: dict[str, FastAPI] = field(default_factory=dict)

    def client(self, name: str) -> httpx.AsyncClient:
        return self.clients[name]

    def runtime(self, name: str) -> Runtime:
        return self.runtimes[name]


def _same(name: str, base: Settings) -> Settings:
    return base


def mesh_settings(**overrides: Any) -> Settings:
    """What the services of one mesh share: names as hosts, and a bus prefix of their own."""
    values: dict[str, Any] = {
        "service_url_template": "http://{name}",
        "kafka_topic_prefix": f"t{uuid.uuid4().hex[:8]}.",
        "http_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_services(
    names: list[str],
    base: Settings,
    keys: TestKeys,
    settings_for: SettingsFor = _same,
) -> AsyncIterator[Mesh]:
    """Start `names` in order (dependencies first) and wire them to each other."""
    mesh = Mesh()
    async with AsyncExitStack() as stack:
        for name in names:
            settings = settings_for(name, base).model_copy(update={"service": name})
            app, client, runtime = await stack.enter_async_context(
                running_app(name, settings, keys=keys)
            )
            mesh.apps[name], mesh.clients[name], mesh.runtimes[name] = app, client, runtime
        for runtime in mesh.runtimes.values():
            await _reach(mesh, runtime)
            stack.push_async_callback(runtime.http.client.aclose)
        yield mesh


async def _reach(mesh: Mesh, runtime: Runtime) -> None:
    """Wire the runtime's service client so `http://<name>` reaches the mesh's app of that name."""
    mounts = {f"http://{n}": httpx.ASGITransport(app=app) for n, app in mesh.apps.items()}
    await runtime.http.client.aclose()
    runtime.http.client = httpx.AsyncClient(
        mounts=mounts, timeout=runtime.settings.http_timeout_seconds, verify=tls_context()
    )


@asynccontextmanager
async def replica(
    mesh: Mesh, name: str, keys: TestKeys, settings: Settings | None = None
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Runtime]]:
    """Another process of the mesh's service `name`, on its settings unless others are given:
    its own app and lifespan, reaching the mesh's services by name as the first one does."""
    chosen = settings or mesh.runtime(name).settings
    async with running_app(name, chosen, keys=keys) as (app, client, runtime):
        await _reach(mesh, runtime)
        try:
            yield app, client, runtime
        finally:
            await runtime.http.client.aclose()


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[int]:
    """Serve an app whose lifespan already ran on a real local port (for WebSocket clients)."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_level="warning",
        **WEBSOCKET_OPTIONS,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why it could not start
        await asyncio.sleep(0.01)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.should_exit = True
        await task
