"""Two replicas on one database and the real Redis: a change through one is seen by the other."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from quckchat.permission import decisions
from tests.permission.conftest import SERVICE_HEADERS, settings_for
from tests.support import TestKeys, running_app, server

pytestmark = pytest.mark.redis


async def test_a_role_change_reaches_the_other_replica_within_a_second(
    sql_url: str, tmp_path: Path, keys: TestKeys
) -> None:
    settings = settings_for(sql_url, tmp_path, redis_url=server("redis"))
    async with (
        running_app("permission", settings, keys=keys) as (_, one, one_runtime),
        running_app("permission", settings, keys=keys) as (_, two, two_runtime),
    ):
        assert decisions.get(one_runtime).instance != decisions.get(two_runtime).instance

        async def allowed_on_two(subject: str, obj: str, action: str) -> bool:
            body = {"subject": subject, "object": obj, "action": action, "tenant": "t1"}
            response = await two.post("/internal/check", json=body, headers=SERVICE_HEADERS)
            assert response.status_code == 200
            result: bool = response.json()["allowed"]
            return result

        async def seconds_until_two_says(expected: bool, obj: str, action: str) -> float:
            started = time.monotonic()
            while await allowed_on_two("mo", obj, action) is not expected:
                assert time.monotonic() - started < 1.0, f"replica two still answers {not expected}"
                await asyncio.sleep(0.01)
            return time.monotonic() - started

        # Replica two has decided, and cached, that mo may not manage members.
        assert not await allowed_on_two("mo", "members", "manage")
        assert not await allowed_on_two("mo", "workspace", "read")

        body = {"user_id": "mo", "role": "member", "tenant": "t1"}
        response = await one.put("/internal/roles", json=body, headers=SERVICE_HEADERS)
        assert response.status_code == 200
        assert await seconds_until_two_says(True, "workspace", "read") < 1.0

        # Cached again on two, then changed through one.
        assert not await allowed_on_two("mo", "members", "manage")
        body["role"] = "admin"
        response = await one.put("/internal/roles", json=body, headers=SERVICE_HEADERS)
        assert response.status_code == 200
        assert await seconds_until_two_says(True, "members", "manage") < 1.0

        # And back the other way: a revocation through two is seen by one.
        response = await two.delete(
            "/internal/roles", params={"user_id": "mo", "tenant": "t1"}, headers=SERVICE_HEADERS
        )
        assert response.status_code == 204
        started = time.monotonic()
        check = {"subject": "mo", "object": "members", "action": "manage", "tenant": "t1"}
        while (await one.post("/internal/check", json=check, headers=SERVICE_HEADERS)).json()[
            "allowed"
        ]:
            assert time.monotonic() - started < 1.0
            await asyncio.sleep(0.01)
