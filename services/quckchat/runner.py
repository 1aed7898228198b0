"""Running services: one per process (`quckchat serve`) or all in one (`quckchat run`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any

import uvicorn

from quckchat import catalog
from quckchat.catalog import ServiceSpec
from quckchat.core import local
from quckchat.core import logging as qlog
from quckchat.core.app import create_app
from quckchat.core.settings import Settings

STARTUP_TIMEOUT_SECONDS = 30.0
# Realtime frames are ~150-byte JSON: per-connection deflate saved little and cost a sixth of
# the replica's CPU and ~256 KB of compressor state per connection (bench/messaging.py).
WEBSOCKET_OPTIONS: dict[str, Any] = {"ws_per_message_deflate": False}


class _SharedLoopServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its host, so many can share one event loop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class ServiceHost:
    """Starts services on their ports in dependency order inside the running event loop."""

    def __init__(self, settings_for: Callable[[ServiceSpec], Settings], host: str) -> None:
        self.settings_for = settings_for
        self.host = host
        self.servers: list[tuple[ServiceSpec, uvicorn.Server, asyncio.Task[None]]] = []

    async def start(
        self,
        specs: Iterable[ServiceSpec],
        progress: Callable[[int, int, ServiceSpec], None] | None = None,
    ) -> None:
        ordered = catalog.startup_order(list(specs))
        for index, spec in enumerate(ordered):
            if progress:
                progress(index, len(ordered), spec)
            settings = self.settings_for(spec)
            app = create_app(spec, settings)
            local.serve_here(spec.name, app)
            config = uvicorn.Config(
                app,
                host=self.host,
                port=settings.port or settings.port_for(spec),
                log_config=None,
                access_log=False,
                lifespan="on",
                **WEBSOCKET_OPTIONS,
            )
            server = _SharedLoopServer(config)
            task = asyncio.create_task(server.serve())
            self.servers.append((spec, server, task))
            deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
            while not server.started:
                if task.done() or time.monotonic() > deadline:
                    await self.stop()
                    raise RuntimeError(
                        f"{spec.name} did not start on port {config.port}; see the log above"
                    )
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        # Tier by tier from the edge inwards: no service goes while one that calls it still runs;
        # within a tier together, as each server takes a while to notice it should exit.
        running = {spec.name: (server, task) for spec, server, task in self.servers}
        for tier in reversed(catalog.startup_tiers([spec for spec, _, _ in self.servers])):
            for spec in tier:
                running[spec.name][0].should_exit = True
            await asyncio.gather(*(_finished(running[spec.name][1]) for spec in tier))
            for spec in tier:
                local.leave(spec.name)
        self.servers.clear()

    async def wait(self) -> None:
        await asyncio.gather(*(task for _, _, task in self.servers), return_exceptions=True)


async def _finished(task: asyncio.Task[None]) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(task, 15)


def serve_one(name: str, *, host: str | None, port: int | None) -> int:
    spec = catalog.get(name)
    settings = Settings(service=name)
    config = uvicorn.Config(
        create_app(spec, settings),
        host=host or settings.host,
        port=port or settings.port or settings.port_for(spec),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
        **WEBSOCKET_OPTIONS,
    )
    server = _SharedLoopServer(config)

    async def serve() -> None:
        # A stop signal is a request to finish cleanly, so the process then exits 0.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        await server.serve()

    asyncio.run(serve())
    return 0


def embedded_settings(data_dir: Path) -> Callable[[ServiceSpec], Settings]:
    # Quiet by default so the ready table stays readable; QUCKCHAT_LOG_LEVEL=INFO for more.
    level = os.environ.get("QUCKCHAT_LOG_LEVEL", "WARNING")

    def settings_for(spec: ServiceSpec) -> Settings:
        return Settings(service=spec.name, data_dir=data_dir, log_level=level)

    return settings_for


def run_platform(*, data_dir: str, host: str, only: list[str] | None) -> int:
    specs = [catalog.get(n) for n in only] if only else catalog.implemented()
    qlog.configure("quckchat")
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_run(specs, path, host))


async def _run(specs: list[ServiceSpec], data_dir: Path, host: str) -> int:
    service_host = ServiceHost(embedded_settings(data_dir), host)
    started = time.monotonic()

    def progress(index: int, total: int, spec: ServiceSpec) -> None:
        sys.stderr.write(f"\rstarting {index + 1}/{total}: {spec.name:<28}")
        sys.stderr.flush()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await service_host.start(specs, progress)
    except RuntimeError as exc:
        sys.stderr.write(f"\nquckchat run: {exc}\n")
        return 1
    elapsed = time.monotonic() - started
    sys.stderr.write("\r" + " " * 50 + "\r")
    print(_ready_table(service_host, host, elapsed, data_dir), flush=True)
    await stop.wait()
    sys.stderr.write("stopping…\n")
    await service_host.stop()
    sys.stderr.write("stopped cleanly\n")
    return 0


def _ready_table(service_host: ServiceHost, host: str, elapsed: float, data_dir: Path) -> str:
    rows = [("SERVICE", "GROUP", "URL")]
    for spec, server, _ in service_host.servers:
        rows.append((spec.name, str(spec.group), f"http://{host}:{server.config.port}"))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)) for r in rows]
    gateway = next((srv for s, srv, _ in service_host.servers if s.name == "backend-gateway"), None)
    lines.append("")
    lines.append(f"QuckChat is ready in {elapsed:.1f}s; data in {data_dir.resolve()}")
    if gateway:
        lines.append(
            f"Public API: http://{host}:{gateway.config.port}/api/v1/  (docs: /api/v1/docs)"
        )
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)
