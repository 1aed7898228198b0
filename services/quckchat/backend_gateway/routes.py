"""The gateway's own routes: health of the platform, the API document, and the proxy."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from quckchat import catalog
from quckchat.backend_gateway import docs as docs_page
from quckchat.backend_gateway import openapi, proxy
from quckchat.core.deps import RuntimeDep
from quckchat.core.errors import Problem, not_found
from quckchat.core.runtime import Runtime
from quckchat.realtime import client as realtime_client

router = APIRouter(prefix="/api/v1", tags=["gateway"])
# HEAD and OPTIONS too: resumable uploads (tus) ask where an upload stands and what is spoken.
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def _service_health(runtime: Runtime, name: str) -> dict[str, Any]:
    try:
        response = await runtime.http.request(name, "GET", "/health")
        body: dict[str, Any] = response.json()
        return body
    except (Problem, ValueError):
        return {"status": "unreachable"}


@router.get("/health", summary="Health of every service behind the gateway")
async def platform_health(runtime: RuntimeDep) -> JSONResponse:
    names = [s.name for s in catalog.implemented() if s.name != runtime.spec.name]
    results = await asyncio.gather(*(_service_health(runtime, n) for n in names))
    services = {n: r.get("status", "unknown") for n, r in zip(names, results, strict=True)}
    healthy = all(v == "healthy" for v in services.values())
    return JSONResponse(
        {
            "status": "healthy" if healthy else "degraded",
            "version": runtime.settings.version,
            "uptime": runtime.uptime,
            "services": services,
        },
        status_code=200 if healthy else 503,
    )


@router.get("/health/{service}", summary="Health of one service")
async def service_health(service: str, runtime: RuntimeDep) -> JSONResponse:
    if service not in catalog.names():
        raise not_found(f"service {service}")
    if not catalog.get(service).implemented:
        raise Problem(404, f"{service} is not part of this release yet", slug="not-implemented")
    body = await _service_health(runtime, service)
    return JSONResponse(body, status_code=200 if body.get("status") == "healthy" else 503)


@router.get("/openapi.json", include_in_schema=False)
async def openapi_document() -> dict[str, Any]:
    return openapi.document()


@router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi_document() -> dict[str, Any]:
    """The WebSocket's protocol (AsyncAPI 3): /api/v1/realtime/ws, its frames and close codes."""
    return realtime_client.asyncapi_document()


@router.get("/docs", include_in_schema=False)
async def docs() -> HTMLResponse:
    return docs_page.page()


@router.get("/docs/assets/{name}", include_in_schema=False)
async def docs_asset(name: str) -> FileResponse:
    return docs_page.asset(name)


@router.api_route("/{prefix}/{path:path}", methods=METHODS, include_in_schema=False)
async def forward(prefix: str, path: str, request: Request, runtime: RuntimeDep) -> Response:
    return await proxy.forward(runtime, request, prefix, path)


@router.api_route("/{prefix}", methods=METHODS, include_in_schema=False)
async def forward_root(prefix: str, request: Request, runtime: RuntimeDep) -> Response:
    """`/api/v1/messages` is the service's root, as `/api/v1/messages/` is."""
    return await proxy.forward(runtime, request, prefix, "")
