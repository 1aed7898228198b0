"""The reminder service on each SQL backend: alone (replicas, restarts) or beside the others."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from quckchat.core.events import InProcessBus
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from quckchat.reminder import firing
from quckchat.reminder import service as service_module
from tests.support import TestKeys, running_app
from tests.worlds.bus import Observer
from tests.worlds.chat import Chat, chat_in, chat_mesh

# Fast ticks, so due reminders fire within a test's patience.
TICK = 0.02


def tick_every(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """How often the apps this test starts look for due reminders."""
    running = service_module.service
    jobs = [
        replace(job, every=seconds) if job.name == firing.FIRE_DUE.name else job
        for job in running.periodic
    ]
    monkeypatch.setattr(service_module, "service", replace(running, periodic=jobs))


@pytest.fixture(autouse=True)
def quick_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    tick_every(monkeypatch, TICK)


@pytest.fixture
async def chat(sql_url: str, tmp_path: Path, keys: TestKeys) -> AsyncIterator[Chat]:
    # Per test, not per module: each test sets its own tick before the service starts.
    async with (
        chat_mesh("reminder", sql_url, tmp_path, keys) as mesh,
        chat_in(mesh, keys, "reminder", observe=["reminder"]) as c,
    ):
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
