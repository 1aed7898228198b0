"""What other services ask the message service: one message, whether a user may see it, and a
workspace's messages a batch at a time. The only module outside the message service that calls
it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from quckchat.channel.client import Membership, membership
from quckchat.core.errors import not_found
from quckchat.core.http import ServiceClient, raise_for_problem
from quckchat.core.runtime import Runtime

SERVICE = "message"
BATCH = 200


async def fetch_message(http: ServiceClient, message_id: str) -> dict[str, Any] | None:
    """The message as the message service has it (MessagePublic), or None when it is gone."""
    response = await http.request(SERVICE, "GET", f"/internal/messages/{message_id}")
    if response.status_code == 404:
        return None
    raise_for_problem(SERVICE, response)
    body: dict[str, Any] = response.json()
    return body


async def visible_message(
    runtime: Runtime, *, user_id: str, message_id: str
) -> tuple[dict[str, Any], Membership]:
    """A live message of a channel the user is in, with their membership; else 404."""
    message = await fetch_message(runtime.http, message_id)
    if message is None:
        raise not_found("message")
    member = await membership(runtime, message["channel_id"], user_id)
    if message.get("deleted"):
        raise not_found("message")
    return message, member


async def workspace_messages(
    http: ServiceClient, workspace_id: str
) -> AsyncIterator[list[dict[str, Any]]]:
    """The workspace's live messages, a batch at a time, in id order."""
    after: str | None = None
    while True:
        params: dict[str, Any] = {"workspace_id": workspace_id, "limit": BATCH}
        if after is not None:
            params["after_id"] = after
        body = await http.json(SERVICE, "GET", "/internal/messages", params=params)
        yield body["items"]
        after = body["next_after_id"]
        if after is None:
            return
