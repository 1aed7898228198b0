"""What reminders about messages and channels need to know from the other services."""

from __future__ import annotations

from typing import Any

from quckchat.core.errors import not_found
from quckchat.core.http import raise_for_problem
from quckchat.core.runtime import Runtime
from quckchat.message.access import Membership, membership

__all__ = ["Membership", "membership", "visible_message"]


async def visible_message(
    runtime: Runtime, *, user_id: str, message_id: str
) -> tuple[dict[str, Any], Membership]:
    """A live message of a channel the user is in, with their membership; else 404."""
    response = await runtime.http.request("message", "GET", f"/internal/messages/{message_id}")
    if response.status_code == 404:
        raise not_found("message")
    raise_for_problem("message", response)
    message: dict[str, Any] = response.json()
    member = await membership(runtime, message["channel_id"], user_id)
    if message.get("deleted"):
        raise not_found("message")
    return message, member
