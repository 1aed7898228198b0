"""Forwarding a public request to the service that owns it, with the edge's checks first.

Order of the checks: route known -> token valid (when given) -> rate limits -> permission
(for routes that need one) -> idempotency claim -> forward.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from quckchat import catalog
from quckchat.backend_gateway import idempotency
from quckchat.catalog import ServiceSpec
from quckchat.core import ratelimit
from quckchat.core.authz import is_allowed
from quckchat.core.deps import client_ip
from quckchat.core.errors import PROBLEM_JSON, Problem, not_found, unauthorized
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal, bearer_token

ROUTES: dict[str, ServiceSpec] = {
    s.public_prefix: s for s in catalog.SERVICES if s.public_prefix and s.implemented
}


@dataclass(frozen=True)
class EdgePolicy:
    object: str
    action: str
    tenant: str | None = None


# Whole public areas that only some users may reach; checked before the service is called.
EDGE_POLICIES = {
    "admin": EdgePolicy("platform", "administer", tenant="platform"),
    "audit": EdgePolicy("platform", "audit.read", tenant="platform"),
}
# What a path segment may hold unencoded (RFC 3986 pchar), plus the separator.
PATH_SAFE = "/:@!$&'()*+,;="
FORWARDED_REQUEST_HEADERS = (
    "authorization",
    "content-type",
    "accept",
    "accept-language",
    "user-agent",
    "if-none-match",
    "if-match",
    "if-modified-since",
    "range",
    "if-range",
    # Resumable uploads (tus 1.0.0).
    "tus-resumable",
    "upload-offset",
    "upload-length",
    "upload-metadata",
)
FORWARDED_RESPONSE_HEADERS = (
    "content-type",
    "location",
    "retry-after",
    "www-authenticate",
    "etag",
    "content-disposition",
    "cache-control",
    "content-range",
    "accept-ranges",
    "last-modified",
    "tus-resumable",
    "tus-version",
    "tus-max-size",
    "upload-offset",
    "upload-length",
    "upload-state",
)


def route(prefix: str, path: str) -> ServiceSpec:
    spec = ROUTES.get(prefix)
    # Internal APIs are for services only; the edge never exposes them.
    if spec is None or path == "internal" or path.startswith("internal/"):
        raise not_found(f"/api/v1/{prefix}/{path}")
    return spec


async def authenticate(runtime: Runtime, request: Request) -> Principal | None:
    token = bearer_token(request.headers.get("authorization"))
    return None if token is None else await runtime.tokens.verify(token)


async def enforce_rate_limits(runtime: Runtime, ip: str, principal: Principal | None) -> None:
    settings = runtime.settings
    window = settings.rate_limit_window_seconds
    checks = [(f"ip:{ip}", settings.rate_limit_per_ip)]
    if principal is not None:
        checks.append((f"user:{principal.user_id}", settings.rate_limit_per_user))
    # Every check in one round trip: a send should not wait on Redis once per limit.
    verdicts = await ratelimit.hit_all(runtime.cache, checks, window=window)
    for verdict in verdicts:
        if not verdict.allowed:
            raise Problem(
                429,
                f"rate limit of {verdict.limit} requests per {window} s reached; slow down",
                slug="rate-limited",
                headers={
                    "Retry-After": str(verdict.retry_after),
                    "RateLimit-Limit": str(verdict.limit),
                    "RateLimit-Remaining": "0",
                },
            )


async def enforce_policy(runtime: Runtime, prefix: str, principal: Principal | None) -> None:
    policy = EDGE_POLICIES.get(prefix)
    if policy is None:
        return
    if principal is None:
        raise unauthorized()
    allowed = await is_allowed(
        runtime,
        subject=principal.user_id,
        object=policy.object,
        action=policy.action,
        tenant=policy.tenant or principal.tenant,
    )
    if not allowed:
        raise Problem(403, f"you may not {policy.action} {policy.object}")


async def forward(runtime: Runtime, request: Request, prefix: str, path: str) -> Response:
    spec = route(prefix, path)
    ip = client_ip(request) or "unknown"
    principal = await authenticate(runtime, request)
    await enforce_rate_limits(runtime, ip, principal)
    await enforce_policy(runtime, prefix, principal)
    body = await request.body()

    key = request.headers.get("idempotency-key")
    if key is not None and request.method == "POST":
        if not 1 <= len(key) <= 255:
            raise Problem(
                400, "Idempotency-Key must be 1 to 255 characters", slug="bad-idempotency-key"
            )
        assert runtime.db is not None
        owner = principal.user_id if principal else f"ip:{ip}"
        stored = await idempotency.claim(
            runtime.db,
            owner=owner,
            key=key,
            fingerprint_=idempotency.fingerprint(request.method, request.url.path, body),
        )
        if stored is not None:
            return Response(
                stored.body,
                stored.status_code,
                headers={**stored.headers, "Idempotent-Replayed": "true"},
            )
        try:
            response = await _send(runtime, request, spec, path, body, ip)
        except Exception:
            await idempotency.release(runtime.db, owner=owner, key=key)
            raise
        await idempotency.complete(
            runtime.db,
            owner=owner,
            key=key,
            stored=idempotency.Stored(
                response.status_code, bytes(response.body), dict(response.headers)
            ),
        )
        return response
    return await _send(runtime, request, spec, path, body, ip)


async def _send(
    runtime: Runtime, request: Request, spec: ServiceSpec, path: str, body: bytes, ip: str
) -> Response:
    headers = {k: v for k in FORWARDED_REQUEST_HEADERS if (v := request.headers.get(k))}
    # The edge names the client itself: a client-sent X-Forwarded-For is not passed on.
    headers["x-forwarded-for"] = ip
    # A download is passed on as it comes, never held whole in the gateway's memory.
    upstream = await runtime.http.open(
        spec.name,
        request.method,
        # Encoded again as the client sent it: a decoded control character is no valid URL.
        "/" + quote(path, safe=PATH_SAFE),
        params=request.query_params,
        content=body,
        headers=headers,
    )
    passed = {k: v for k in FORWARDED_RESPONSE_HEADERS if (v := upstream.headers.get(k))}
    bytes_as_sent = request.method in ("GET", "HEAD") and not _is_problem(upstream)
    # HEAD answers the length GET would send (else the empty body's 0 would be said instead).
    if bytes_as_sent and (length := upstream.headers.get("content-length")):
        passed["content-length"] = length
    if bytes_as_sent and request.method == "GET":
        return StreamingResponse(
            upstream.aiter_raw(),
            upstream.status_code,
            headers=passed,
            background=BackgroundTask(upstream.aclose),
        )
    try:
        await upstream.aread()
    finally:
        await upstream.aclose()
    return Response(
        _public_problem(upstream, public_path(request)), upstream.status_code, headers=passed
    )


def public_path(request: Request) -> str:
    """The path as the client sent it, still percent-encoded."""
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if isinstance(raw, bytes) and raw else request.url.path


def _is_problem(upstream: httpx.Response) -> bool:
    return str(upstream.headers.get("content-type", "")).startswith(PROBLEM_JSON)


def _public_problem(upstream: httpx.Response, public_path: str) -> bytes:
    """The answer's body; a problem's `instance` names the path the client called, not the
    service's own."""
    if not _is_problem(upstream):
        return upstream.content
    try:
        problem = upstream.json()
    except ValueError:
        return upstream.content
    if not isinstance(problem, dict):
        return upstream.content
    problem["instance"] = public_path
    return json.dumps(problem).encode()
