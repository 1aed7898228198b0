"""What other services ask the presence service: whether users are online, away, in
do-not-disturb (and until when) or offline now, and whether a desktop or web client of theirs
was active lately. The only module outside the presence service that calls it.

Presence changes by the second, so nothing is kept: every answer is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from quckchat.core.http import ServiceClient

SERVICE = "presence"
# The internal query's bound (presence/schemas.MAX_QUERY).
MAX_QUERY = 200
# Seconds: a desktop or web client active this recently may show the user what a push would.
ACTIVE_WITHIN = 120


@dataclass(frozen=True)
class Presence:
    user_id: str
    status: str  # online, away, dnd or offline
    dnd_until: datetime | None = None  # in do-not-disturb: when it ends (None: no end set)
    # A desktop or web client was active within the asked window (a phone never counts).
    active: bool = False


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def presences(
    http: ServiceClient, user_ids: Iterable[str], *, active_within: int = ACTIVE_WITHIN
) -> dict[str, Presence]:
    """The presence of each user now, by user id (one never seen is offline)."""
    wanted = sorted(set(user_ids))
    found: dict[str, Presence] = {}
    for start in range(0, len(wanted), MAX_QUERY):
        batch = wanted[start : start + MAX_QUERY]
        answered = await http.json(
            SERVICE,
            "POST",
            "/internal/presence/query",
            json={"user_ids": batch, "active_within": active_within},
            # A query changes nothing: a retry after a lost answer is harmless.
            idempotent=True,
        )
        for item in answered:
            found[item["user_id"]] = Presence(
                user_id=item["user_id"],
                status=item["status"],
                dnd_until=_moment(item.get("dnd_until")),
                active=bool(item.get("desktop_active")),
            )
    return found
