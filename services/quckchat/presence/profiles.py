"""The user service's side of presence: privacy settings decide who sees last seen, and the
profile keeps the last seen presence reports."""

from __future__ import annotations

from datetime import datetime

from quckchat.core.http import raise_for_problem
from quckchat.core.runtime import Runtime


async def seen_by_everyone(runtime: Runtime, user_id: str) -> bool:
    """Whether the user shows their last seen to anyone (events reach whole workspaces)."""
    response = await runtime.http.request("user", "GET", f"/internal/users/{user_id}")
    if response.status_code == 404:
        return False
    raise_for_problem("user", response)
    return bool(response.json()["settings"]["last_seen"] == "everyone")


async def visible_to(runtime: Runtime, viewer: str, user_ids: list[str]) -> set[str]:
    """The users among `user_ids` whose last seen `viewer` may see (always their own)."""
    others = sorted(set(user_ids) - {viewer})
    if not others:
        return {viewer}
    body = await runtime.http.json(
        "user",
        "POST",
        "/internal/users/last-seen-visibility",
        json={"viewer_id": viewer, "user_ids": others},
        # Reading settings changes nothing, so a retry after a lost answer is harmless.
        idempotent=True,
    )
    return {viewer, *body["visible"]}


async def record_last_seen(runtime: Runtime, user_id: str, at: datetime) -> None:
    """Move the profile's last seen forward (a user without a profile has none to move)."""
    response = await runtime.http.request(
        "user", "PUT", f"/internal/users/{user_id}/last-seen", json={"last_seen_at": at.isoformat()}
    )
    if response.status_code != 404:
        raise_for_problem("user", response)
