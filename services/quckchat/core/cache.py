"""Redis through redis.asyncio; the embedded default is an in-process server with the same API."""

from __future__ import annotations

import fakeredis
from redis.asyncio import BlockingConnectionPool, Redis

# Per client: realtime holds one for its stream reader and briefly one per connecting socket.
MAX_CONNECTIONS = 200
POOL_WAIT_SECONDS = 10.0
# One in-process server per process, so services started together by `quckchat run` share
# caches, rate limits and pub/sub exactly as they would through one real Redis.
_EMBEDDED = fakeredis.FakeServer()


def connect(url: str | None) -> Redis:
    """A client for `url`, or for the process's embedded server when `url` is None."""
    if url:
        # A burst (hundreds of WebSocket connects) waits for a free connection instead of failing.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=POOL_WAIT_SECONDS,
            decode_responses=True,
            health_check_interval=30,
        )
        return Redis(connection_pool=pool)
    return fakeredis.FakeAsyncRedis(server=_EMBEDDED, decode_responses=True)


async def ping(client: Redis) -> None:
    await client.ping()
