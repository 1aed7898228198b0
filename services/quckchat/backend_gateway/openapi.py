"""One OpenAPI document for the public API, composed from the services' own routers."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import FastAPI

from quckchat import __version__
from quckchat.backend_gateway.proxy import ROUTES
from quckchat.core.app import load_service
from quckchat.core.openapi import finish


@cache
def document() -> dict[str, Any]:
    """Every public route of each routed service under /api/v1/<prefix>; internal ones left out."""
    merged = FastAPI(
        title="QuckChat public API",
        version=__version__,
        description=(
            "The public REST API of QuckChat. Send `Authorization: Bearer <access token>` "
            "(from /api/v1/auth/otp/verify or /api/v1/auth/login). Errors are "
            "application/problem+json. POSTs accept an `Idempotency-Key` header."
        ),
    )
    for prefix, spec in sorted(ROUTES.items()):
        for router in load_service(spec).routers:
            merged.include_router(router, prefix=f"/api/v1/{prefix}")
    doc = merged.openapi()
    doc["paths"] = {p: ops for p, ops in doc["paths"].items() if "/internal" not in p}
    return finish(doc)
