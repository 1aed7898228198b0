"""`create_app(spec)`: the one way a QuckChat service becomes an ASGI application."""

from __future__ import annotations

import asyncio
import importlib
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quckchat import catalog
from quckchat.catalog import ServiceSpec
from quckchat.core import context, errors, metrics, migrations, openapi, outbox, periodic
from quckchat.core import logging as qlog
from quckchat.core import runtime as runtime_mod
from quckchat.core.runtime import Runtime
from quckchat.core.service import Service
from quckchat.core.settings import Settings

log = qlog.get("app")


def load_service(spec: ServiceSpec) -> Service:
    module = importlib.import_module(f"quckchat.{spec.module}.service")
    service: Service = module.service
    return service


class RequestContextMiddleware:
    """Request id in and out, the caller's name, one access log line, and metrics per route.

    A plain ASGI middleware: it sits on every request, so it stays cheap.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self.log = qlog.get("access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:128] or uuid.uuid4().hex
        tokens = (
            context.request_id.set(rid),
            context.caller.set(headers.get(b"x-quckchat-caller", b"client").decode("latin-1")),
            context.service.set(self.service),
        )
        status = 500
        responded = False
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            if responded:
                raise
            # Answered here, not by Starlette's outermost handler: that one runs after this
            # middleware and would send the 500 without the request id that finds it in the log.
            response = errors.internal_error(scope["method"], scope["path"])
            await response(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.observe(self.service, scope["method"], template, status, elapsed)
            if not scope["path"].startswith(("/health", "/metrics")):
                self.log.info(
                    "%s %s %d %.1fms", scope["method"], scope["path"], status, elapsed * 1000
                )
            context.service.reset(tokens[2])
            context.caller.reset(tokens[1])
            context.request_id.reset(tokens[0])


def create_app(
    spec: ServiceSpec | str,
    settings: Settings | None = None,
    *,
    auto_migrate: bool | None = None,
) -> FastAPI:
    """Build the service's app: settings, stores, routes, health, metrics and error handling."""
    spec = catalog.get(spec) if isinstance(spec, str) else spec
    settings = settings or Settings(service=spec.name)
    if not settings.service:
        settings = settings.model_copy(update={"service": spec.name})
    service = load_service(spec)
    qlog.configure(spec.name, settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = runtime_mod.build(spec, settings)
        if service.jwks is not None:
            runtime.tokens.source = partial(service.jwks, runtime)
        app.state.runtime = runtime
        if runtime.db is not None:
            if settings.auto_migrate if auto_migrate is None else auto_migrate:
                await migrations.upgrade(runtime.db, spec.name)
            elif migrations.metadata_of(spec.name) is not None:
                await migrations.require_current(runtime.db, spec.name)
        if runtime.documents is not None:
            await runtime.documents.start()
            outbox_indexes = [i for box in service.document_outboxes for i in box.indexes()]
            await runtime.documents.ensure_indexes((*service.document_indexes, *outbox_indexes))
        if runtime.objects is not None:
            await runtime.objects.start()
        for consumer in service.consumers:
            runtime.events.subscribe(
                spec.name,
                [catalog.get(src).topic for src in consumer.sources],
                partial(consumer.handler, runtime),
                broadcast=consumer.broadcast,
                batch=None if consumer.batch is None else partial(consumer.batch, runtime),
            )
        await runtime.events.start()
        for hook in service.on_startup:
            await hook(runtime)
        tasks: list[asyncio.Task[None]] = [
            asyncio.create_task(loop(runtime)) for loop in service.background
        ]
        jobs = [*service.periodic, *(box.job for box in service.document_outboxes)]
        jobs += [outbox.RELAY] if runtime.outbox is not None else []
        tasks += [asyncio.create_task(periodic.run_forever(runtime, j)) for j in jobs]
        log.info("%s ready on port %s", spec.name, settings.port or settings.port_for(spec))
        try:
            yield
        finally:
            # Readiness fails first so load balancers stop sending before connections close.
            runtime.stopping = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for hook in service.on_shutdown:
                await hook(runtime)
            await runtime.events.stop()
            await runtime.http.close()
            await runtime.cache.aclose()
            if runtime.db is not None:
                await runtime.db.close()
            if runtime.documents is not None:
                await runtime.documents.close()
            if runtime.objects is not None:
                await runtime.objects.close()
            log.info("%s stopped", spec.name)

    app = FastAPI(
        title=f"QuckChat {spec.name}",
        version=settings.version,
        description=spec.purpose,
        lifespan=lifespan,
    )
    errors.install(app)
    build_openapi = app.openapi
    app.openapi = lambda: openapi.finish(build_openapi())  # type: ignore[method-assign]
    # First, so a service's catch-all such as GET /{id} at its root never shadows them.
    _add_health_routes(app, settings)
    app.add_route("/metrics", metrics.metrics_endpoint, include_in_schema=False)
    for router in service.routers:
        app.include_router(router)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Request-ID", "Retry-After"],
    )
    app.add_middleware(RequestContextMiddleware, service=spec.name)
    return app


def _add_health_routes(app: FastAPI, settings: Settings) -> None:
    @app.get("/health", tags=["health"], include_in_schema=False)
    async def health(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        dependencies = await runtime_mod.check_all(runtime)
        healthy = all(v == "healthy" for v in dependencies.values())
        body: dict[str, Any] = {
            "status": "healthy" if healthy else "unhealthy",
            "version": settings.version,
            "uptime": runtime.uptime,
            "dependencies": dependencies,
        }
        return JSONResponse(body, status_code=200 if healthy else 503)

    @app.get("/health/live", tags=["health"], include_in_schema=False)
    async def live() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/health/ready", tags=["health"], include_in_schema=False)
    async def ready(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        if runtime.stopping:
            return JSONResponse({"status": "stopping"}, status_code=503)
        dependencies = await runtime_mod.check_all(runtime)
        ok = all(v == "healthy" for v in dependencies.values())
        return JSONResponse(
            {"status": "ready" if ok else "not-ready", "dependencies": dependencies},
            status_code=200 if ok else 503,
        )
