"""Who may do what in a channel, as the channel service says; answers cached briefly.

Every send and read asks whether the caller is a member of the channel. The answer is kept for
a few seconds per replica, and dropped at once when a channel event says the membership or the
channel changed (see consumers.py), so a removed member cannot go on posting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from quckchat.core.errors import Problem, forbidden, not_found
from quckchat.core.runtime import Runtime

TTL_SECONDS = 10.0
STATE_KEY = "message.memberships"
CHANNEL_ADMIN = "channel-admin"


@dataclass(frozen=True)
class Membership:
    """The caller's standing in one channel, and the channel's rules."""

    channel_id: str
    workspace_id: str
    user_id: str
    kind: str
    role: str
    archived: bool
    announcement_only: bool
    disappearing_seconds: int | None

    @property
    def is_admin(self) -> bool:
        return self.role == CHANNEL_ADMIN

    def require_post(self) -> None:
        if self.archived:
            raise Problem(409, "the channel is archived", slug="channel-archived")
        if self.announcement_only and not self.is_admin:
            raise forbidden("only channel admins post in this announcement channel")


Cache = dict[tuple[str, str], tuple[float, Membership]]


def _cache(runtime: Runtime) -> Cache:
    cache: Cache = runtime.state.setdefault(STATE_KEY, {})
    return cache


async def membership(runtime: Runtime, channel_id: str, user_id: str) -> Membership:
    """The caller's membership; a channel they are not in answers 404, as if it did not exist."""
    cache = _cache(runtime)
    now = time.monotonic()
    found = cache.get((channel_id, user_id))
    if found is not None and found[0] > now:
        return found[1]
    response = await runtime.http.request(
        "channel", "GET", f"/internal/channels/{channel_id}/members/{user_id}"
    )
    if response.status_code == 404:
        raise not_found("channel")
    if response.status_code >= 400:
        raise Problem(502, f"the channel service answered {response.status_code}")
    member = _from_json(response.json(), user_id)
    cache[(channel_id, user_id)] = (now + TTL_SECONDS, member)
    return member


def _from_json(body: dict[str, Any], user_id: str) -> Membership:
    return Membership(
        channel_id=body["channel_id"],
        workspace_id=body["workspace_id"],
        user_id=user_id,
        kind=body.get("kind", "public"),
        role=body.get("role", "channel-member"),
        archived=bool(body.get("archived")),
        announcement_only=bool(body.get("announcement_only")),
        disappearing_seconds=body.get("disappearing_seconds"),
    )


def forget_channel(runtime: Runtime, channel_id: str, user_id: str | None = None) -> None:
    """Drop cached answers for a channel (one member's, or everyone's)."""
    cache = _cache(runtime)
    for key in [k for k in cache if k[0] == channel_id and (user_id is None or k[1] == user_id)]:
        cache.pop(key, None)
