"""What the thread service asks other services: a message, and who is in its channel."""

from __future__ import annotations

import asyncio
from typing import Any

from quckchat.core.errors import Problem
from quckchat.core.http import raise_for_problem
from quckchat.core.runtime import Runtime
from quckchat.message.access import Membership, membership

__all__ = ["Membership", "fetch_message", "members_among", "membership"]


async def fetch_message(runtime: Runtime, message_id: str) -> dict[str, Any] | None:
    """The message as the message service has it (MessagePublic), or None when it is gone."""
    response = await runtime.http.request("message", "GET", f"/internal/messages/{message_id}")
    if response.status_code == 404:
        return None
    raise_for_problem("message", response)
    body: dict[str, Any] = response.json()
    return body


async def _is_member(runtime: Runtime, channel_id: str, user_id: str) -> bool:
    try:
        await membership(runtime, channel_id, user_id)
    except Problem as problem:
        if problem.status == 404:
            return False
        raise
    return True


async def members_among(runtime: Runtime, channel_id: str, user_ids: set[str]) -> set[str]:
    """Those of the users who are members of the channel (an unreachable service raises)."""
    ordered = sorted(user_ids)
    answers = await asyncio.gather(*(_is_member(runtime, channel_id, u) for u in ordered))
    return {user for user, member in zip(ordered, answers, strict=True) if member}
