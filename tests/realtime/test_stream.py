"""The replay log on the embedded and the real Redis: once per event id, ordered, resumable."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from quckchat.core import cache
from quckchat.realtime import stream as stream_mod
from quckchat.realtime.audience import Audience
from quckchat.realtime.stream import Stream, position
from tests.support import server

pytestmark = pytest.mark.redis


@pytest.fixture(params=["embedded", "redis"])
async def redis(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Redis]:
    client = cache.connect(None if request.param == "embedded" else server("redis"))
    # A stream of this test's own on the shared server.
    monkeypatch.setattr(stream_mod, "STREAM", f"test:rt:{uuid.uuid4().hex}")
    yield client
    await client.delete(stream_mod.STREAM)
    await client.aclose()


async def test_an_event_enters_once_and_reads_back_in_order(redis: Redis) -> None:
    log = Stream(redis, bound=1000)
    start = await log.last_id()
    audience = Audience(channel_id="c1", users=frozenset({"u1", "u2"}))
    first = await log.append(f"e1-{uuid.uuid4().hex}", "message.created", {"text": "a"}, audience)
    assert first is not None
    again = await log.append(f"e2-{uuid.uuid4().hex}", "message.edited", {"text": "b"}, audience)
    event_id = f"dup-{uuid.uuid4().hex}"
    assert await log.append(event_id, "message.deleted", {}, audience) is not None
    assert await log.append(event_id, "message.deleted", {}, audience) is None  # a redelivery
    entries = await log.after(start)
    assert [e.type for e in entries] == ["message.created", "message.edited", "message.deleted"]
    assert entries[0].audience == audience
    assert entries[1].frame().startswith('{"id":"' + str(again) + '","type":"message.edited"')
    assert [e.id for e in await log.after(entries[0].id)] == [entries[1].id, entries[2].id]
    assert position(entries[0].id) < position(entries[1].id)
    live = await log.read(entries[1].id, block_ms=10)
    assert [e.id for e in live] == [entries[2].id]


async def test_the_log_is_bounded(redis: Redis) -> None:
    log = Stream(redis, bound=10)
    for n in range(300):
        await log.append(
            f"b{n}-{uuid.uuid4().hex}", "message.created", {}, Audience(channel_id="c")
        )
    # MAXLEN ~ trims whole nodes: the length stays near the bound, far below what was added.
    assert await redis.xlen(stream_mod.STREAM) < 300


async def test_a_batch_enters_in_order_in_one_round_trip_each_event_once(redis: Redis) -> None:
    log = Stream(redis, bound=1000)
    start = await log.last_id()
    audience = Audience(channel_id="c1")
    seen = f"seen-{uuid.uuid4().hex}"
    assert await log.append(seen, "message.created", {"n": -1}, audience) is not None
    batch = [(f"b{n}-{uuid.uuid4().hex}", "message.created", {"n": n}, audience) for n in range(5)]
    batch.insert(2, (seen, "message.created", {"n": -1}, audience))  # a redelivery
    batch.append(batch[0])  # a repeat inside the batch
    added = await log.append_all(batch)
    assert [a is not None for a in added] == [True, True, False, True, True, True, False]
    entries = await log.after(start)
    assert [json.loads(e.payload)["data"]["n"] for e in entries] == [-1, 0, 1, 2, 3, 4]
    assert [e.id for e in entries[1:]] == [a for a in added if a is not None]
