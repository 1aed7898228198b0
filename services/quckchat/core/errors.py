"""Errors as RFC 9457 problem+json with a stable `type`; nothing a client sent becomes a 5xx."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from quckchat.core import context
from quckchat.core import logging as qlog

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://quckchat.io/problems/"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    423: "Locked",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "rate-limited",
    500: "internal-error",
    502: "bad-gateway",
    503: "unavailable",
    504: "gateway-timeout",
}


class ProblemDocument(BaseModel):
    """What every error answer holds (RFC 9457); some problems add fields of their own."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="a stable URI naming the kind of problem; branch on this")
    title: str
    status: int
    detail: str = Field(description="what was wrong with this request, for people")
    instance: str | None = Field(default=None, description="the path that was called")
    request_id: str | None = Field(default=None, description="quote it when reporting")


class Problem(Exception):
    """An error a route raises to answer with problem+json.

    `slug` becomes the stable `type` URI that clients branch on; `detail` says what was wrong.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or _SLUGS.get(status, "error")
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            data["instance"] = instance
        rid = context.request_id.get()
        if rid != "-":
            data["request_id"] = rid
        data.update(self.extra)
        return data


def problem_docs(*codes: int, described: Mapping[int, str] | None = None) -> dict[int | str, Any]:
    """OpenAPI `responses` for the problem+json answers a route gives (401 and 422 always)."""
    said = described or {}
    return {
        code: {"description": said.get(code, "problem"), "content": {PROBLEM_JSON: {}}}
        for code in (401, 422, *codes)
    }


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


# Shorthands for the errors every service raises.
def not_found(what: str) -> Problem:
    return Problem(404, f"{what} was not found")


def unauthorized(detail: str = "a valid access token is required") -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> Problem:
    return Problem(403, detail)


def conflict(detail: str, slug: str = "conflict") -> Problem:
    return Problem(409, detail, slug=slug)


def internal_error(method: str, path: str) -> JSONResponse:
    """Log the exception being handled, with its traceback, and answer a bare 500 problem."""
    qlog.get("errors").exception("unhandled error on %s %s", method, path)
    return problem_response(Problem(500, "an internal error occurred; it has been logged"), path)


def is_data_error(exc: DBAPIError) -> bool:
    """A database refusing a value itself (SQLSTATE class 22): the client's input, not a bug."""
    if isinstance(exc, DataError):
        return True
    for cause in (exc.orig, getattr(exc.orig, "__cause__", None)):
        if str(getattr(cause, "sqlstate", "") or "").startswith("22"):
            return True
    return False


def install(app: FastAPI) -> None:
    """Register handlers so every error leaves as problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "location": ".".join(str(p) for p in err.get("loc", ())),
                "message": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        where = ", ".join(f"{e['location']}: {e['message']}" for e in errors[:5])
        return problem_response(
            Problem(422, f"the request is not valid: {where}", errors=errors), request.url.path
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        return problem_response(
            Problem(exc.status_code, detail, headers=dict(exc.headers or {})), request.url.path
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if is_data_error(exc):
            return problem_response(
                Problem(
                    422,
                    "a value in the request cannot be stored (bad characters or too long)",
                    slug="unstorable-value",
                ),
                request.url.path,
            )
        return internal_error(request.method, request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return internal_error(request.method, request.url.path)
