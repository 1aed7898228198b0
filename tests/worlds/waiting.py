"""Waiting for what consumers do in the background, without sleeping a fixed time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

POLL = 0.02


async def eventually(
    probe: Callable[[], Awaitable[Any]], *, until: Any, within: float = 10.0
) -> Any:
    """Ask `probe` until it answers `until` (a consumer works in the background); its answer."""
    for _ in range(int(within / POLL)):
        if (answer := await probe()) == until:
            return answer
        await asyncio.sleep(POLL)
    return await probe()
