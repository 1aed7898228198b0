"""What other services ask the user service: a profile, a user's devices (and dropping a dead
push token), display names, who shows their last seen to whom, moving a last seen forward,
and the platform's profile counts. The only module
outside the user service that calls it.

Display names are kept a minute per replica, and dropped at once when the user's profile
changes: a service that shows names declares `NAME_CACHE` among its consumers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from quckchat.core import logging as qlog
from quckchat.core.errors import Problem
from quckchat.core.events import Event
from quckchat.core.expiring import Expiring, kept
from quckchat.core.http import ServiceClient, raise_for_problem
from quckchat.core.runtime import Runtime
from quckchat.core.service import Consumer
from quckchat.user.events import (
    ProfileUpdated,
    SettingsUpdated,
    UserBlocked,
    UserUnblocked,
)
from quckchat.user.schemas import MAX_NAMES_QUERY, MAX_NOTIFY_QUERY, DeviceInternal

SERVICE = "user"
NAMES_TTL_SECONDS = 60.0
NAMES_TIMEOUT_SECONDS = 1.0
NAMES_STATE_KEY = "user.client.names"

log = qlog.get("user.client")


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


async def devices_of(http: ServiceClient, user_id: str) -> list[DeviceInternal]:
    """The user's devices with their push tokens (none for a user without a profile)."""
    found = await http.json(SERVICE, "GET", _path(user_id, "/devices"))
    return [DeviceInternal.model_validate(device) for device in found]


async def drop_push_token(
    http: ServiceClient, user_id: str, device_id: str, push_token: str
) -> None:
    """A provider called the device's token dead: the user service removes the device, unless
    it has registered another token since."""
    response = await http.request(
        SERVICE,
        "POST",
        _path(user_id, f"/devices/{quote(device_id, safe='')}/token-gone"),
        json={"push_token": push_token},
        # Removal compares the token, so a retry after a lost answer changes nothing more.
        idempotent=True,
    )
    raise_for_problem(SERVICE, response)


def _names(runtime: Runtime) -> Expiring[str, str | None]:
    return kept(runtime, NAMES_STATE_KEY, NAMES_TTL_SECONDS)


async def display_names(runtime: Runtime, user_ids: Iterable[str]) -> dict[str, str]:
    """The display names of those users who have one. A name is a nicety: what the user
    service cannot answer (away, slow, or older than this client) is left out; nothing fails."""
    cache, found, missing = _names(runtime), {}, []
    for user_id in set(user_ids):
        if (hit := cache.get(user_id)) is None:
            missing.append(user_id)
        else:
            found[user_id] = hit[0]
    asked_at = cache.mark()
    missing.sort()
    for start in range(0, len(missing), MAX_NAMES_QUERY):
        batch = missing[start : start + MAX_NAMES_QUERY]
        try:
            # One short attempt: a send or a list does not wait out retries for a nicety.
            body = await runtime.http.json(
                SERVICE,
                "POST",
                "/internal/users/names",
                json={"user_ids": batch},
                idempotent=False,
                timeout=NAMES_TIMEOUT_SECONDS,
            )
            named: dict[str, str] = body["names"]
        except (Problem, KeyError, TypeError) as exc:
            log.warning("display names left out: %s", exc)
            break
        for user_id in batch:  # one without a name is kept too: a rename announces itself
            cache.put(user_id, named.get(user_id), asked_at=asked_at)
            found[user_id] = named.get(user_id)
    return {user_id: name for user_id, name in found.items() if name}


async def display_name(runtime: Runtime, user_id: str) -> str | None:
    return (await display_names(runtime, [user_id])).get(user_id)


Named = TypeVar("Named", bound=BaseModel)


async def with_names(runtime: Runtime, schema: type[Named], rows: Sequence[Any]) -> list[Named]:
    """Rows about users (each with a `user_id`) as `schema`, their `display_name` filled."""
    names = await display_names(runtime, (row.user_id for row in rows))
    return [
        schema.model_validate(row, from_attributes=True).model_copy(
            update={"display_name": names.get(row.user_id)}
        )
        for row in rows
    ]


async def forget_renamed(runtime: Runtime, event: Event) -> None:
    """A profile changed: its cached name may be stale."""
    if event.type != ProfileUpdated.type:
        return
    changed = ProfileUpdated.parse(event)
    if changed is not None:
        _names(runtime).forget(lambda user_id: user_id == changed.user_id)


# Every replica drops its own cached names when a profile changes.
NAME_CACHE = Consumer(sources=(SERVICE,), handler=forget_renamed, broadcast=True)


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


NOTIFY_TTL_SECONDS = 30.0
NOTIFY_STATE_KEY = "user.client.notify"
# What may change a user's answer to `notify_profiles`: settings, time zone, blocks.
NOTIFY_CHANGES = frozenset(
    kind.type for kind in (SettingsUpdated, ProfileUpdated, UserBlocked, UserUnblocked)
)


def _notify(runtime: Runtime) -> Expiring[tuple[str, str | None], NotifyProfile]:
    return kept(runtime, NOTIFY_STATE_KEY, NOTIFY_TTL_SECONDS)


@dataclass(frozen=True)
class NotifyProfile:
    """A user's notification settings and time zone (None: no profile, the defaults apply),
    and whether they blocked the actor asked about."""

    profile: dict[str, Any] | None
    blocked_actor: bool


async def notify_profiles(
    runtime: Runtime, user_ids: Iterable[str], *, actor_id: str | None
) -> dict[str, NotifyProfile]:
    """Each user's notification settings, time zone and block of `actor_id`, by user id. Kept
    half a minute per (user, actor); dropped on the user's settings, profile and block events
    (`NOTIFY_CACHE`)."""
    cache, found, missing = _notify(runtime), {}, []
    for user_id in sorted(set(user_ids)):
        if (hit := cache.get((user_id, actor_id))) is None:
            missing.append(user_id)
        else:
            found[user_id] = hit[0]
    asked_at = cache.mark()
    for start in range(0, len(missing), MAX_NOTIFY_QUERY):
        batch = missing[start : start + MAX_NOTIFY_QUERY]
        body = await runtime.http.json(
            SERVICE,
            "POST",
            "/internal/users/notify-settings",
            json={"user_ids": batch, "actor_id": actor_id},
            # Reading settings changes nothing, so a retry after a lost answer is harmless.
            idempotent=True,
        )
        blockers = set(body["blockers"])
        for user_id in batch:
            answer = NotifyProfile(body["users"].get(user_id), user_id in blockers)
            cache.put((user_id, actor_id), answer, asked_at=asked_at)
            found[user_id] = answer
    return found


async def forget_notify(runtime: Runtime, event: Event) -> None:
    """A user's settings, profile or blocks changed: their kept answers may be stale."""
    if event.type in NOTIFY_CHANGES and event.audience is not None:
        changed = set(event.audience.users)
        _notify(runtime).forget(lambda key: key[0] in changed)


# Every replica drops its own kept notification settings when they change.
NOTIFY_CACHE = Consumer(sources=(SERVICE,), handler=forget_notify, broadcast=True)
