"""What other services ask the presence service: whether users are online, away, in
do-not-disturb or offline now. The only module outside the presence service that calls it.

Presence changes by the second, so nothing is kept: every answer is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from quckchat.core.http import ServiceClient

SERVICE = "presence"
# The internal query's bound (presence/schemas.MAX_QUERY).
MAX_QUERY = 200


@dataclass(frozen=True)
class Presence:
    user_id: str
    status: str  # online, away, dnd or offline

    @property
    def active(self) -> bool:
        """A desktop or web client is in use now: online is shown only while one is active
        (presence/devices.live_status); phones get pushes and send no heartbeats."""
        return self.status == "online"


async def presences(http: ServiceClient, user_ids: Iterable[str]) -> dict[str, Presence]:
    """The presence of each user now, by user id (one never seen is offline)."""
    wanted = sorted(set(user_ids))
    found: dict[str, Presence] = {}
    for start in range(0, len(wanted), MAX_QUERY):
        batch = wanted[start : start + MAX_QUERY]
        answered = await http.json(
            SERVICE,
            "POST",
            "/internal/presence/query",
            json={"user_ids": batch},
            # A query changes nothing: a retry after a lost answer is harmless.
            idempotent=True,
        )
        for item in answered:
            found[item["user_id"]] = Presence(user_id=item["user_id"], status=item["status"])
    return found
