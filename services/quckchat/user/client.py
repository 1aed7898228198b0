"""What other services ask the user service: a profile, who shows their last seen to whom,
moving a last seen forward, and the platform's profile counts. The only module outside the user
service that calls it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from quckchat.core.http import ServiceClient, raise_for_problem

SERVICE = "user"


def _path(user_id: str, action: str = "") -> str:
    return f"/internal/users/{quote(user_id, safe='')}{action}"


async def profile(http: ServiceClient, user_id: str) -> dict[str, Any] | None:
    """The user's profile (with its settings), or None when they have none yet."""
    response = await http.request(SERVICE, "GET", _path(user_id))
    if response.status_code == 404:
        return None
    raise_for_problem(SERVICE, response)
    found: dict[str, Any] = response.json()
    return found


async def seen_by_everyone(http: ServiceClient, user_id: str) -> bool:
    """Whether the user shows their last seen to anyone (events reach whole workspaces)."""
    found = await profile(http, user_id)
    return found is not None and found["settings"]["last_seen"] == "everyone"


async def last_seen_visible_to(http: ServiceClient, viewer: str, user_ids: list[str]) -> set[str]:
    """The users among `user_ids` whose last seen `viewer` may see (always their own)."""
    others = sorted(set(user_ids) - {viewer})
    if not others:
        return {viewer}
    body = await http.json(
        SERVICE,
        "POST",
        "/internal/users/last-seen-visibility",
        json={"viewer_id": viewer, "user_ids": others},
        # Reading settings changes nothing, so a retry after a lost answer is harmless.
        idempotent=True,
    )
    return {viewer, *body["visible"]}


async def record_last_seen(http: ServiceClient, user_id: str, at: datetime) -> None:
    """Move the profile's last seen forward (a user without a profile has none to move)."""
    response = await http.request(
        SERVICE, "PUT", _path(user_id, "/last-seen"), json={"last_seen_at": at.isoformat()}
    )
    if response.status_code != 404:
        raise_for_problem(SERVICE, response)


async def stats(http: ServiceClient) -> dict[str, Any]:
    found: dict[str, Any] = await http.json(SERVICE, "GET", "/internal/stats")
    return found
