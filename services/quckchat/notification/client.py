"""What other services ask the notification service: tell a user, or send to a bare email
address or phone (workspace invites). The only module outside the service that calls it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quckchat.core.http import ServiceClient

SERVICE = "notification"


def _request(
    *,
    title: str,
    body: str = "",
    user_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    wanted = {"title": title, "body": body, "user_id": user_id, "email": email, "phone": phone}
    return {k: v for k, v in {**wanted, **fields}.items() if v is not None}


async def send(http: ServiceClient, *, title: str, **fields: Any) -> str:
    """Send one notice (to `user_id`, `email` or `phone`); its id. Passing `notice_id` makes
    a retry safe: the same id is sent once."""
    found: dict[str, Any] = await http.json(
        SERVICE,
        "POST",
        "/internal/notifications/send",
        json=_request(title=title, **fields),
        idempotent="notice_id" in fields,
    )
    return str(found["notification_id"])


async def send_batch(http: ServiceClient, items: Sequence[dict[str, Any]]) -> list[str]:
    """Send several notices at once (each as `send` takes it); their ids, in order."""
    found: dict[str, Any] = await http.json(
        SERVICE,
        "POST",
        "/internal/notifications/send-batch",
        json={"items": [_request(**item) for item in items]},
        idempotent=all("notice_id" in item for item in items),
    )
    return [str(item["notification_id"]) for item in found["items"]]
