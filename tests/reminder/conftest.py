"""The reminder service on each SQL backend: alone (replicas, restarts) or beside the others."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from quckchat.core.events import InProcessBus
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from quckchat.reminder import firing
from tests.support import TestKeys, running_app
from tests.thread.world import Chat, Observer, chat_world

# Fast ticks, so due reminders fire within a test's patience.
TICK = 0.02


@pytest.fixture(autouse=True)
def quick_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(firing, "TICK_SECONDS", TICK)


@pytest.fixture
async def chat(sql_url: str, tmp_path: Path, keys: TestKeys) -> AsyncIterator[Chat]:
    async with chat_world("reminder", sql_url, tmp_path, keys, observe=["reminder"]) as c:
        yield c


@pytest.fixture
def settings(sql_url: str, tmp_path: Path) -> Settings:
    """One reminder deployment: every replica started with these shares database and bus."""
    return Settings(
        service="reminder",
        database_url=sql_url,
        data_dir=tmp_path,
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:8]}.",
    )


@asynccontextmanager
async def replica(
    settings: Settings, keys: TestKeys
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """One running replica of the reminder service (its firing loop included), and a client."""
    async with running_app("reminder", settings, keys=keys) as (_, client, runtime):
        yield runtime, client


@asynccontextmanager
async def fired_events(settings: Settings) -> AsyncIterator[Observer]:
    """What the deployment publishes on its topic, as a consumer of it sees it."""
    bus = InProcessBus(prefix=settings.kafka_topic_prefix)
    queue = bus.hub.attach(f"observer-{uuid.uuid4().hex}", (bus.prefix + "quckchat.reminder",))
    try:
        yield Observer(queue)
    finally:
        bus.hub.detach(queue)
