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
from quckchat.message.events import MessageBody

SERVICE = "message"
BATCH = 200


async def fetch_message(http: ServiceClient, message_id: str) -> MessageBody | None:
    """The message as its channel's members see it, or None when it is gone."""
    response = await http.request(SERVICE, "GET", f"/internal/messages/{message_id}")
    if response.status_code == 404:
        return None
    raise_for_problem(SERVICE, response)
    return MessageBody.model_validate(response.json())


async def visible_message(
    runtime: Runtime, *, user_id: str, message_id: str
) -> tuple[MessageBody, Membership]:
    """A live message of a channel the user is in, with their membership; else 404."""
    message = await fetch_message(runtime.http, message_id)
    if message is None:
        raise not_found("message")
    member = await membership(runtime, message.channel_id, user_id)
    if message.deleted:
        raise not_found("message")
    return message, member


async def workspace_messages(
    http: ServiceClient, workspace_id: str
) -> AsyncIterator[list[MessageBody]]:
    """The workspace's live messages, a batch at a time, in id order."""
    after: str | None = None
    while True:
        params: dict[str, Any] = {"workspace_id": workspace_id, "limit": BATCH}
        if after is not None:
            params["after_id"] = after
        body = await http.json(SERVICE, "GET", "/internal/messages", params=params)
        yield [MessageBody.model_validate(item) for item in body["items"]]
        after = body["next_after_id"]
        if after is None:
            return
