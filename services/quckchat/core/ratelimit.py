"""Fixed-window rate limits counted in Redis, shared by every replica."""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


async def hit(cache: Redis, key: str, *, limit: int, window: int) -> Verdict:
    """Count one hit on `key`; refuse once `limit` hits fell in the current window."""
    bucket = int(time.time()) // window
    name = f"qc:rl:{key}:{bucket}"
    async with cache.pipeline(transaction=False) as pipe:
        pipe.incr(name)
        pipe.expire(name, window + 1)
        count, _ = await pipe.execute()
    retry_after = window - int(time.time()) % window
    return Verdict(count <= limit, limit, max(0, limit - count), retry_after)
