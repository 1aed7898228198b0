"""Prometheus metrics: requests, latency and errors per service and route."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

REQUESTS = Counter(
    "quckchat_http_requests_total",
    "HTTP requests handled, by service, method, route and status code",
    ["service", "method", "route", "status"],
)
ERRORS = Counter(
    "quckchat_http_errors_total",
    "HTTP requests answered with a 5xx status, by service and route",
    ["service", "method", "route"],
)
LATENCY = Histogram(
    "quckchat_http_request_duration_seconds",
    "Time to answer an HTTP request, by service and route",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_PUBLISHED = Counter(
    "quckchat_events_published_total", "Events published, by service and type", ["service", "type"]
)


def observe(service: str, method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(service, method, route, str(status)).inc()
    LATENCY.labels(service, method, route).observe(seconds)
    if status >= 500:
        ERRORS.labels(service, method, route).inc()


async def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
