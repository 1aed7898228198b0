from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from quckchat.core.events import Event, InProcessBus
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from tests.support import OtpOutbox, running_app
from tests.worlds.bus import drain


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


Published = Callable[[], list[Event]]


@pytest.fixture
def published(auth: tuple[httpx.AsyncClient, Runtime]) -> Iterator[Published]:
    """The auth events published since the last call (the outbox publishes on commit)."""
    runtime = auth[1]
    assert isinstance(runtime.events, InProcessBus)
    hub = runtime.events.hub
    queue: asyncio.Queue[Event] = hub.attach("test-observer", ("quckchat.auth",))
    try:
        yield lambda: drain(queue)
    finally:
        hub.detach(queue)
