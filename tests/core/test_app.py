"""`create_app` on a real service (audit, SQLite): health, metrics, request ids, problem+json."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from quckchat.core.settings import Settings
from tests.support import running_app, server

INTERNAL = {"X-QuckChat-Caller": "tester"}
PROBLEM_JSON = "application/problem+json"


def audit_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        service="audit",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}",
        data_dir=tmp_path,
        **overrides,
    )


async def metric(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """The value of one sample on /metrics (0 when the series does not exist yet)."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


class LogTap:
    """Reads what the platform's own JSON log handler writes, line by line."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        self.handler: logging.StreamHandler[io.StringIO] | None = None
        self.previous: object = None

    def __enter__(self) -> LogTap:
        root = logging.getLogger()
        handler = next(h for h in root.handlers if getattr(h, "_quckchat", False))
        assert isinstance(handler, logging.StreamHandler)
        self.handler = handler
        self.previous = handler.setStream(self.stream)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.handler is not None
        self.handler.setStream(self.previous)  # type: ignore[arg-type]

    def lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line]


@pytest.fixture
async def audit(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running_app("audit", audit_settings(tmp_path)) as (app, client, _):
        yield app, client


@pytest.mark.parametrize(
    "stores", ["embedded", pytest.param("real", marks=[pytest.mark.redis, pytest.mark.kafka])]
)
async def test_health_has_the_documented_form(tmp_path: Path, stores: str) -> None:
    overrides: dict[str, Any] = {"version": "9.8.7"}
    if stores == "real":
        overrides |= {
            "redis_url": server("redis"),
            "kafka_bootstrap": server("kafka"),
            "kafka_topic_prefix": f"t{uuid.uuid4().hex[:8]}.",
        }
    async with running_app("audit", audit_settings(tmp_path, **overrides)) as (_, client, _rt):
        response = await client.get("/health")
        ready = await client.get("/health/ready")
        live = await client.get("/health/live")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "version", "uptime", "dependencies"}
    assert body["status"] == "healthy"
    assert body["version"] == "9.8.7"
    assert isinstance(body["uptime"], int) and body["uptime"] >= 0
    assert body["dependencies"] == {"database": "healthy", "redis": "healthy", "kafka": "healthy"}
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert live.status_code == 200 and live.json() == {"status": "alive"}


async def test_an_unreachable_redis_makes_health_and_readiness_fail_but_not_liveness(
    tmp_path: Path,
) -> None:
    settings = audit_settings(
        tmp_path, redis_url="redis://127.0.0.1:1/0", health_timeout_seconds=0.5
    )
    async with running_app("audit", settings) as (_, client, _rt):
        health = await client.get("/health")
        ready = await client.get("/health/ready")
        live = await client.get("/health/live")
    assert health.status_code == 503
    assert health.json()["status"] == "unhealthy"
    assert health.json()["dependencies"] == {
        "database": "healthy",
        "redis": "unhealthy",
        "kafka": "healthy",
    }
    assert ready.status_code == 503
    assert ready.json()["dependencies"]["redis"] == "unhealthy"
    assert live.status_code == 200


async def test_readiness_fails_first_when_the_service_is_stopping(tmp_path: Path) -> None:
    async with running_app("audit", audit_settings(tmp_path)) as (_, client, runtime):
        runtime.stopping = True
        ready = await client.get("/health/ready")
        live = await client.get("/health/live")
    assert ready.status_code == 503 and ready.json() == {"status": "stopping"}
    assert live.status_code == 200


async def test_metrics_count_requests_by_service_and_route_template(
    audit: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = audit

    @app.get("/probe/{item_id}")
    async def probe(item_id: str) -> dict[str, str]:
        return {"item_id": item_id}

    series = {
        "service": "audit",
        "method": "GET",
        "route": "/probe/{item_id}",
        "status": "200",
    }
    before = await metric(client, "quckchat_http_requests_total", **series)
    assert (await client.get("/probe/a")).status_code == 200
    assert (await client.get("/probe/b")).status_code == 200
    assert await metric(client, "quckchat_http_requests_total", **series) == before + 2

    entries = {"service": "audit", "route": "/internal/entries", "status": "200"}
    before = await metric(client, "quckchat_http_requests_total", **entries)
    assert (await client.get("/internal/entries", headers=INTERNAL)).status_code == 200
    assert await metric(client, "quckchat_http_requests_total", **entries) == before + 1
    text = (await client.get("/metrics")).text
    assert 'route="/probe/a"' not in text
    assert "quckchat_http_request_duration_seconds_bucket" in text


async def test_a_5xx_counts_as_an_error(audit: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = audit

    @app.get("/boom/{n}")
    async def boom(n: int) -> None:
        raise RuntimeError(f"broken {n}")

    labels = {"service": "audit", "method": "GET", "route": "/boom/{n}"}
    errors_before = await metric(client, "quckchat_http_errors_total", **labels)
    served_before = await metric(client, "quckchat_http_requests_total", status="500", **labels)
    assert (await client.get("/boom/1")).status_code == 500
    assert (await client.get("/health/live")).status_code == 200
    assert await metric(client, "quckchat_http_errors_total", **labels) == errors_before + 1
    assert (
        await metric(client, "quckchat_http_requests_total", status="500", **labels)
        == served_before + 1
    )
    # A 4xx is the client's mistake, not an error of the service.
    missing = {"service": "audit", "method": "GET", "route": "unmatched"}
    before = await metric(client, "quckchat_http_errors_total", **missing)
    assert (await client.get("/no/such/route")).status_code == 404
    assert await metric(client, "quckchat_http_errors_total", **missing) == before


async def test_the_request_id_is_echoed_and_logged(
    audit: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = audit
    rid = f"rid-{uuid.uuid4().hex}"
    with LogTap() as tap:
        response = await client.get("/internal/entries", headers={**INTERNAL, "X-Request-ID": rid})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == rid
    access = [line for line in tap.lines() if line.get("request_id") == rid]
    assert len(access) == 1
    assert access[0]["logger"] == "quckchat.access"
    assert access[0]["service"] == "audit"
    assert access[0]["caller"] == "tester"
    assert "GET /internal/entries 200" in str(access[0]["message"])


async def test_a_request_without_an_id_gets_a_fresh_one(
    audit: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = audit
    first = await client.get("/health/live")
    second = await client.get("/health/live")
    ids = {first.headers["X-Request-ID"], second.headers["X-Request-ID"]}
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)


async def test_an_unknown_route_is_a_404_problem(
    audit: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = audit
    response = await client.get("/no/such/route", headers={"X-Request-ID": "rid-404"})
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "https://quckchat.io/problems/not-found"
    assert body["status"] == 404
    assert body["instance"] == "/no/such/route"
    assert body["request_id"] == "rid-404"


async def test_a_wrong_method_is_a_405_problem(audit: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = audit
    response = await client.delete("/health/live")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == "https://quckchat.io/problems/method-not-allowed"


async def test_invalid_input_is_a_422_problem_naming_the_field(
    audit: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = audit
    response = await client.get("/internal/entries", params={"limit": 0}, headers=INTERNAL)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "https://quckchat.io/problems/validation-error"
    assert [e["location"] for e in body["errors"]] == ["query.limit"]
    assert body["errors"][0]["type"] == "greater_than_equal"
    assert "limit" in body["detail"]


async def test_an_unhandled_error_is_a_500_problem_without_internals(
    audit: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = audit

    @app.get("/explode")
    async def explode() -> None:
        raise ValueError("secret-internal-detail in /srv/quckchat/app.py")

    with LogTap() as tap:
        # The app answers; the exception does not reach the client (ASGITransport would raise it).
        response = await client.get("/explode", headers={"X-Request-ID": "rid-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "https://quckchat.io/problems/internal-error"
    assert body["status"] == 500
    assert "secret-internal-detail" not in response.text
    assert "Traceback" not in response.text
    assert ".py" not in response.text
    # The details go to the log instead, where the request id of the answer finds them.
    assert response.headers["X-Request-ID"] == "rid-500"
    assert body["request_id"] == "rid-500"
    logged = [line for line in tap.lines() if line["logger"] == "quckchat.errors"]
    assert len(logged) == 1
    assert logged[0]["request_id"] == "rid-500"
    assert "secret-internal-detail" in str(logged[0].get("exc_info"))
