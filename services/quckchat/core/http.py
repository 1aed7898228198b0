"""Calls between services: timeouts, retries only where a repeat is harmless, context passed on."""

from __future__ import annotations

import asyncio
import ssl
from functools import cache
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from quckchat.core import context
from quckchat.core.errors import Problem
from quckchat.core.settings import Settings

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})
BACKOFF = (0.05, 0.2, 0.5)


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context a process: building one loads the CA bundle (~20 ms), once per client
    otherwise, and every runtime has a client."""
    return httpx.create_ssl_context()


class ServiceClient:
    """The one HTTP client a service uses to reach the others by catalog name."""

    def __init__(self, settings: Settings, caller: str, *, transport: Any = None) -> None:
        self.settings = settings
        self.caller = caller
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        self.client = httpx.AsyncClient(
            timeout=settings.http_timeout_seconds,
            # httpx's own connection layer costs ~0.6 ms a call; aiohttp's costs ~0.1 ms.
            transport=transport
            or AiohttpTransport(verify=tls_context(), limits=limits, trust_env=False),
            limits=limits,
        )

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {context.CALLER_HEADER: self.caller}
        rid = context.request_id.get()
        if rid != "-":
            headers[context.REQUEST_ID_HEADER] = rid
        if extra:
            headers.update(extra)
        return headers

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        idempotent: bool | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; retry with backoff on transport errors and 502-504 if idempotent.

        Raises Problem(503/504) when the service cannot be reached, so callers answer clearly.
        """
        return await self._send(
            service, method, path, idempotent=idempotent, headers=headers, stream=False, **kwargs
        )

    async def open(
        self,
        service: str,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Like request(), but the body is left to read as it comes: the caller streams it and
        then closes the response (`aclose`)."""
        return await self._send(
            service, method, path, idempotent=None, headers=headers, stream=True, **kwargs
        )

    async def _send(
        self,
        service: str,
        method: str,
        path: str,
        *,
        idempotent: bool | None,
        headers: dict[str, str] | None,
        stream: bool,
        **kwargs: Any,
    ) -> httpx.Response:
        method = method.upper()
        retry = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        url = self.settings.service_url(service) + path
        attempts = (*BACKOFF, None) if retry else (None,)
        for delay in attempts:
            try:
                request = self.client.build_request(
                    method, url, headers=self.headers(headers), **kwargs
                )
                response = await self.client.send(request, stream=stream)
            except httpx.TransportError as exc:
                if delay is None:
                    raise _transport_problem(service, exc) from exc
            else:
                if response.status_code not in RETRY_STATUSES or delay is None:
                    return response
                await response.aclose()
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def json(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        """Like request(), but an error answer is re-raised as the service's own problem."""
        response = await self.request(service, method, path, **kwargs)
        raise_for_problem(service, response)
        return response.json() if response.content else None

    async def close(self) -> None:
        await self.client.aclose()


def _transport_problem(service: str, exc: httpx.TransportError) -> Problem:
    # The aiohttp transport reports a refused connection as ConnectTimeout; it is not one.
    refused = isinstance(exc.__cause__, aiohttp.ClientConnectorError)
    if isinstance(exc, httpx.TimeoutException) and not refused:
        return Problem(504, f"the {service} service did not answer in time")
    return Problem(503, f"the {service} service is unreachable")


def raise_for_problem(service: str, response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
        detail = body.get("detail") or f"{service} answered {response.status_code}"
        slug = str(body.get("type", "")).rsplit("/", 1)[-1] or None
    except ValueError:
        detail, slug = f"{service} answered {response.status_code}", None
    status = response.status_code if response.status_code < 500 else 502
    raise Problem(status, detail, slug=slug)
