"""The platform as benchmarks run it: every service its own process on the test bed's servers,
quiet logs, and no rate limit in the way of the load (tests/worlds/platform.py)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.support import load_testbed_env
from tests.worlds.platform import ProcessPlatform, platform_processes

UNLIMITED = 10_000_000


@asynccontextmanager
async def bench_platform(
    label: str, *, port_offset: int, redis_db: int, **overrides: Any
) -> AsyncIterator[ProcessPlatform]:
    load_testbed_env()
    with tempfile.TemporaryDirectory() as tmp:
        settings: dict[str, Any] = {
            "log_level": "WARNING",
            "rate_limit_per_ip": UNLIMITED,
            "rate_limit_per_user": UNLIMITED,
            **overrides,
        }
        async with platform_processes(
            Path(tmp), label=label, port_offset=port_offset, redis_db=redis_db, **settings
        ) as platform:
            yield platform
