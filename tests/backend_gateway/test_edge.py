"""The gateway's edge rules on their own: rate limits (real Redis) and idempotency claims."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from quckchat.backend_gateway import idempotency
from quckchat.core.migrations import upgrade
from quckchat.core.settings import Settings
from quckchat.core.sql import Database
from tests.support import running_app, server


@pytest.mark.redis
async def test_rate_limit_per_address_answers_429_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(
        service="backend-gateway",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/gw.db",
        redis_url=server("redis").rsplit("/", 1)[0] + "/2",
        rate_limit_per_ip=3,
        rate_limit_window_seconds=3600,
        # No service listens here: allowed requests fail upstream, limited ones never leave.
        service_url_template="http://127.0.0.1:1",
    )
    # The counters are per fixed window: start well inside one, never at its edge.
    if time.time() % settings.rate_limit_window_seconds > settings.rate_limit_window_seconds - 5:
        await asyncio.sleep(6)
    async with running_app("backend-gateway", settings) as (_, client, runtime):
        await runtime.cache.flushdb()
        statuses = [(await client.get("/api/v1/auth/me")).status_code for _ in range(4)]
        assert statuses[:3] == [503, 503, 503]
        assert statuses[3] == 429
        limited = await client.get("/api/v1/auth/me")
        assert 0 < int(limited.headers["retry-after"]) <= settings.rate_limit_window_seconds
        assert limited.headers["content-type"] == "application/problem+json"
        await runtime.cache.flushdb()


async def test_idempotency_claims_decide_races_on_every_backend(sql_url: str) -> None:
    db = Database(sql_url)
    try:
        await upgrade(db, "backend-gateway")
        fp = idempotency.fingerprint("POST", "/api/v1/x", b"{}")
        results = await asyncio.gather(
            *(idempotency.claim(db, owner="u1", key="k1", fingerprint_=fp) for _ in range(5)),
            return_exceptions=True,
        )
        winners = [r for r in results if r is None]
        in_progress = [r for r in results if isinstance(r, Exception)]
        assert len(winners) == 1
        assert all(getattr(e, "status", None) == 409 for e in in_progress)

        stored = idempotency.Stored(201, b'{"ok":true}', {"content-type": "application/json"})
        await idempotency.complete(db, owner="u1", key="k1", stored=stored)
        replay = await idempotency.claim(db, owner="u1", key="k1", fingerprint_=fp)
        assert replay == stored
        # Another owner's identical key is theirs alone.
        assert await idempotency.claim(db, owner="u2", key="k1", fingerprint_=fp) is None
    finally:
        await db.close()
