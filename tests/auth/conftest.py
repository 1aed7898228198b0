from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from tests.support import OtpOutbox, running_app


@pytest.fixture
async def auth(sql_url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """The auth service on each SQL backend, with its in-process Redis and event bus."""
    settings = Settings(service="auth", database_url=sql_url, data_dir=tmp_path)
    async with running_app("auth", settings) as (_, client, runtime):
        yield client, runtime


@pytest.fixture
def outbox() -> OtpOutbox:
    with OtpOutbox() as box:
        yield box  # type: ignore[misc]
