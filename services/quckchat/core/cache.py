"""Redis through redis.asyncio; the embedded default is an in-process server with the same API."""

from __future__ import annotations

import fakeredis
from redis.asyncio import Redis

# One in-process server per process, so services started together by `quckchat run` share
# caches, rate limits and pub/sub exactly as they would through one real Redis.
_EMBEDDED = fakeredis.FakeServer()


def connect(url: str | None) -> Redis:
    """A client for `url`, or for the process's embedded server when `url` is None."""
    if url:
        return Redis.from_url(url, decode_responses=True, health_check_interval=30)
    return fakeredis.FakeAsyncRedis(server=_EMBEDDED, decode_responses=True)


async def ping(client: Redis) -> None:
    await client.ping()
