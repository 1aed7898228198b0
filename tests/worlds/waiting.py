"""Waiting for what consumers do in the background, without sleeping a fixed time."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

POLL = 0.02
# `until` left out: any truthy answer will do.
TRUTHY: Any = object()


async def eventually(
    probe: Callable[[], Any | Awaitable[Any]],
    *,
    until: Any = TRUTHY,
    within: float = 10.0,
    poll: float = POLL,
) -> Any:
    """Ask `probe` (plain or async) every `poll` seconds until it answers `until`, or anything
    truthy without it, for about `within` seconds; its last answer, for the caller to assert."""

    async def ask() -> Any:
        answer = probe()
        return await answer if inspect.isawaitable(answer) else answer

    for _ in range(round(within / poll)):
        answer = await ask()
        if bool(answer) if until is TRUTHY else answer == until:
            return answer
        await asyncio.sleep(poll)
    return await ask()
