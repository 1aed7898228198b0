"""What other services ask the channel service: a user's standing in a channel, the channels
they are in or may read. The only module outside the channel service that calls it.

A membership answer is kept a few seconds per replica, and dropped at once when a channel event
says the membership or the channel changed: a service that keeps them declares
`MEMBERSHIP_CACHE` among its consumers, so a removed member cannot go on posting.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from quckchat.core.errors import Problem, forbidden, not_found
from quckchat.core.events import Event
from quckchat.core.expiring import Expiring, kept
from quckchat.core.http import ServiceClient, raise_for_problem
from quckchat.core.runtime import Runtime
from quckchat.core.service import Consumer

SERVICE = "channel"
TTL_SECONDS = 10.0
STATE_KEY = "channel.client.memberships"
NOTIFY_STATE_KEY = "channel.client.notify-views"
CHANNEL_ADMIN = "channel-admin"
# A member's notification level in one channel: their account settings (default), every new
# message, only what names them (even in a direct conversation), or nothing.
NotifyLevel = Literal["default", "all", "mentions", "none"]
# The channels every workspace starts with, and whether everyone joins it.
DEFAULT_CHANNELS = (("general", True), ("random", False))


@dataclass(frozen=True)
class Membership:
    """A user's standing in one channel, and the channel's rules."""

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


def _cache(runtime: Runtime) -> Expiring[tuple[str, str], Membership]:
    return kept(runtime, STATE_KEY, TTL_SECONDS)


async def membership(runtime: Runtime, channel_id: str, user_id: str) -> Membership:
    """The user's membership; a channel they are not in answers 404, as if it did not exist."""
    cache = _cache(runtime)
    if (hit := cache.get((channel_id, user_id))) is not None:
        return hit[0]
    asked_at = cache.mark()
    response = await runtime.http.request(
        SERVICE, "GET", f"/internal/channels/{channel_id}/members/{user_id}"
    )
    # 422: an id (a mention's user, say) the channel service never holds: no such membership.
    if response.status_code in (404, 422):
        raise not_found("channel")
    raise_for_problem(SERVICE, response)
    member = _from_json(response.json(), user_id)
    cache.put((channel_id, user_id), member, asked_at=asked_at)
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


async def is_member(runtime: Runtime, channel_id: str, user_id: str) -> bool:
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
    answers = await asyncio.gather(*(is_member(runtime, channel_id, u) for u in ordered))
    return {user for user, member in zip(ordered, answers, strict=True) if member}


async def channels_of(http: ServiceClient, user_id: str) -> list[str]:
    """The ids of every channel the user is a member of."""
    found: list[str] = await http.json(SERVICE, "GET", f"/internal/users/{user_id}/channels")
    return found


async def readable_channels(http: ServiceClient, *, workspace_id: str, user_id: str) -> list[str]:
    """The workspace's channels the user may read: their own and, unless a guest, the public."""
    found: list[str] = await http.json(
        SERVICE,
        "GET",
        f"/internal/users/{user_id}/readable-channels",
        params={"workspace_id": workspace_id},
    )
    return found


def forget_channel(runtime: Runtime, channel_id: str, user_id: str | None = None) -> None:
    """Drop cached answers for a channel (one member's, or everyone's; and its member list)."""
    _cache(runtime).forget(lambda k: k[0] == channel_id and user_id in (None, k[1]))
    _notify_cache(runtime).forget(lambda k: k == channel_id)


@dataclass(frozen=True)
class NotifyMember:
    user_id: str
    muted: bool
    muted_until: datetime | None  # with `muted`, None is a mute until lifted
    level: NotifyLevel = "default"
    ignore_channel_mentions: bool = False  # @channel, @everyone and @here do not name them

    def muted_at(self, now: datetime) -> bool:
        return self.muted and (self.muted_until is None or self.muted_until > now)


@dataclass(frozen=True)
class NotifyView:
    """A channel's kind and members with their mutes: whom a message there may notify."""

    channel_id: str
    workspace_id: str
    kind: str
    name: str | None
    members: tuple[NotifyMember, ...]

    @property
    def direct(self) -> bool:
        return self.kind in ("direct", "group")


def _notify_cache(runtime: Runtime) -> Expiring[str, NotifyView | None]:
    return kept(runtime, NOTIFY_STATE_KEY, TTL_SECONDS)


async def notify_view(runtime: Runtime, channel_id: str) -> NotifyView | None:
    """The channel's members and their mutes; None for a channel that is gone. Kept a few
    seconds; dropped on the channel's events (`MEMBERSHIP_CACHE`)."""
    cache = _notify_cache(runtime)
    if (hit := cache.get(channel_id)) is not None:
        return hit[0]
    asked_at = cache.mark()
    response = await runtime.http.request(
        SERVICE, "GET", f"/internal/channels/{channel_id}/notify-view"
    )
    if response.status_code in (404, 422):
        found = None
    else:
        raise_for_problem(SERVICE, response)
        body = response.json()
        found = NotifyView(
            channel_id=body["channel_id"],
            workspace_id=body["workspace_id"],
            kind=body["kind"],
            name=body.get("name"),
            members=tuple(
                NotifyMember(
                    user_id=m["user_id"],
                    muted=bool(m["muted"]),
                    muted_until=(
                        datetime.fromisoformat(m["muted_until"]) if m.get("muted_until") else None
                    ),
                    level=m.get("level", "default"),
                    ignore_channel_mentions=bool(m.get("ignore_channel_mentions")),
                )
                for m in body["members"]
            ),
        )
    cache.put(channel_id, found, asked_at=asked_at)
    return found


async def forget_changed(runtime: Runtime, event: Event) -> None:
    """Forget what a channel event may have made stale: the standing of the members its
    audience names, or the whole channel's."""
    audience = event.audience
    if audience is None or audience.channel_id is None:
        return
    for user_id in audience.users or (None,):
        forget_channel(runtime, audience.channel_id, user_id)


# Every replica drops its own cached memberships when they change.
MEMBERSHIP_CACHE = Consumer(sources=(SERVICE,), handler=forget_changed, broadcast=True)


async def create_default_channels(
    http: ServiceClient, *, workspace_id: str, tenant: str, owner: str
) -> None:
    """#general (everyone joins it) and #random; the channel service opens each name once."""
    for name, default in DEFAULT_CHANNELS:
        await http.json(
            SERVICE,
            "POST",
            "/internal/channels",
            json={
                "workspace_id": workspace_id,
                "name": name,
                "kind": "public",
                "created_by": owner,
                "default": default,
                "tenant": tenant,
            },
            idempotent=True,
        )


async def join_default_channels(http: ServiceClient, *, workspace_id: str, user_id: str) -> None:
    """The user joins the workspace's default channels (#general)."""
    await http.json(
        SERVICE,
        "POST",
        f"/internal/workspaces/{workspace_id}/default-members",
        json={"user_id": user_id},
        idempotent=True,
    )


async def workspace_channels(http: ServiceClient, workspace_id: str) -> list[dict[str, Any]]:
    """Every channel of the workspace."""
    found: list[dict[str, Any]] = await http.json(
        SERVICE, "GET", f"/internal/workspaces/{workspace_id}/channels"
    )
    return found
