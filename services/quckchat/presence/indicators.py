"""Typing indicators: who is typing in a channel, forgotten a few seconds after they stop.

Each typist is a member of a sorted set per channel scored by when their indicator expires;
reads drop the expired ones. The event that tells the channel goes out at most once per
`TYPING_EVERY` seconds per typist (a key set only if absent), carrying `expires_in`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from quckchat.channel.client import membership
from quckchat.core.runtime import Runtime
from quckchat.presence.events import Typing
from quckchat.presence.schemas import Typist

TYPING_TTL = 5
TYPING_EVERY = 2


def typists_key(channel_id: str) -> str:
    return f"presence:typing:{channel_id}"


def throttle_key(channel_id: str, user_id: str) -> str:
    return f"presence:typing:{channel_id}:{user_id}"


async def start(runtime: Runtime, *, user_id: str, tenant: str, channel_id: str) -> Typist:
    """The user is typing in the channel: keep them listed, and tell the channel (throttled)."""
    member = await membership(runtime, channel_id, user_id)
    expires = time.time() + TYPING_TTL
    async with runtime.cache.pipeline(transaction=True) as pipe:
        pipe.zadd(typists_key(channel_id), {user_id: expires})
        pipe.expire(typists_key(channel_id), TYPING_TTL)
        pipe.set(throttle_key(channel_id, user_id), "1", nx=True, ex=TYPING_EVERY)
        *_, fresh = await pipe.execute()
    if fresh:
        indicator = Typing(
            workspace_id=member.workspace_id,
            channel_id=channel_id,
            user_id=user_id,
            actor=user_id,
            expires_in=TYPING_TTL,
        )
        await runtime.emit(indicator, tenant=tenant)
    return Typist(user_id=user_id, expires_at=datetime.fromtimestamp(expires, UTC))


async def typing(runtime: Runtime, *, user_id: str, channel_id: str) -> list[Typist]:
    """Who is typing in a channel the user belongs to, now."""
    await membership(runtime, channel_id, user_id)
    key = typists_key(channel_id)
    await runtime.cache.zremrangebyscore(key, "-inf", time.time())
    found: Any = await runtime.cache.zrange(key, 0, -1, withscores=True)
    return [
        Typist(user_id=name, expires_at=datetime.fromtimestamp(score, UTC)) for name, score in found
    ]
