"""FastAPI dependencies every service's routes use: the runtime, a SQL session, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request, Response, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from quckchat.core import context
from quckchat.core.errors import unauthorized
from quckchat.core.runtime import Runtime
from quckchat.core.tokens import Principal, bearer_token


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    if runtime.db is None:
        raise RuntimeError(f"{runtime.spec.name} has no relational store")
    async with runtime.db.session() as session:
        yield session


# "function" scope commits before the response goes out: by default FastAPI ends a yield
# dependency after sending, so a client could read stale data or miss a failed commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


# Declares the bearer scheme in the OpenAPI document, on each operation that needs a user; the
# header itself is read below, so a malformed one gets our own 401 problem.
BEARER = HTTPBearer(
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="an access token from /api/v1/auth/otp/verify or /api/v1/auth/login",
    auto_error=False,
)


async def get_principal(
    runtime: RuntimeDep,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    token = bearer_token(authorization)
    if token is None:
        raise unauthorized()
    principal = await runtime.tokens.verify(token)
    context.subject.set(principal.user_id)
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


def get_internal_caller(request: Request) -> str:
    """Internal routes are for other services; Kubernetes NetworkPolicies keep clients out."""
    caller = request.headers.get(context.CALLER_HEADER)
    if not caller:
        raise unauthorized("internal API: only QuckChat services may call this")
    return caller


InternalCaller = Annotated[str, Depends(get_internal_caller)]


async def get_optional_principal(
    runtime: RuntimeDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal | None:
    token = bearer_token(authorization)
    return None if token is None else await runtime.tokens.verify(token)


OptionalUser = Annotated[Principal | None, Depends(get_optional_principal)]


def client_ip(request: HTTPConnection) -> str | None:
    """The end client's address: the gateway's X-Forwarded-For when the gateway sent it."""
    if request.headers.get(context.CALLER_HEADER) == "backend-gateway":
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.client.host if request.client else None


def answer_repeat(response: Response, created: bool) -> None:
    """A create asked again answers 200 with what the first one made (the route says 201)."""
    if not created:
        response.status_code = status.HTTP_200_OK
