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


async def hit_all(cache: Redis, limits: list[tuple[str, int]], *, window: int) -> list[Verdict]:
    """Count one hit on each (key, limit) in a single round trip; a verdict per key."""
    now = int(time.time())
    bucket = now // window
    async with cache.pipeline(transaction=False) as pipe:
        for key, _ in limits:
            name = f"qc:rl:{key}:{bucket}"
            pipe.incr(name)
            pipe.expire(name, window + 1)
        replies = await pipe.execute()
    retry_after = window - now % window
    return [
        Verdict(count <= limit, limit, max(0, limit - count), retry_after)
        for (_, limit), count in zip(limits, replies[::2], strict=True)
    ]


async def hit(cache: Redis, key: str, *, limit: int, window: int) -> Verdict:
    """Count one hit on `key`; refuse once `limit` hits fell in the current window."""
    (verdict,) = await hit_all(cache, [(key, limit)], window=window)
    return verdict
