"""The auth service: sign-in, tokens, sessions and 2FA (port 8081)."""

from __future__ import annotations

from typing import Any

from quckchat.auth import internal_routes, keys, routes
from quckchat.auth.oidc import OidcClient, configured
from quckchat.core import sms
from quckchat.core.runtime import Runtime
from quckchat.core.service import Service


async def _start(runtime: Runtime) -> None:
    runtime.state["sms"] = sms.provider_from(runtime.settings)
    runtime.state["oidc"] = OidcClient(runtime, configured(runtime.settings))
    assert runtime.db is not None
    async with runtime.db.session() as db:
        await keys.active_key(db)


async def _stop(runtime: Runtime) -> None:
    await runtime.state["oidc"].close()


async def _local_jwks(runtime: Runtime) -> dict[str, Any]:
    # The auth service verifies its own tokens from its key table, not over HTTP.
    assert runtime.db is not None
    async with runtime.db.session() as db:
        return await keys.jwks(db, access_ttl_seconds=runtime.settings.access_token_ttl_seconds)


service = Service(
    routers=[routes.router, internal_routes.router],
    on_startup=[_start],
    on_shutdown=[_stop],
    jwks=_local_jwks,
)
