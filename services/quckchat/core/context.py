"""Per-request context that logs and outgoing calls carry across service boundaries."""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
CALLER_HEADER = "X-QuckChat-Caller"

request_id: ContextVar[str] = ContextVar("request_id", default="-")
# The service (or "client") that made the current request, as it said in CALLER_HEADER.
caller: ContextVar[str] = ContextVar("caller", default="-")
# The authenticated subject of the current request, once a token was verified.
subject: ContextVar[str] = ContextVar("subject", default="-")
# The service handling the current request: several share one process under `quckchat run`.
service: ContextVar[str] = ContextVar("service", default="-")
