"""What the presence routes do: heartbeats, disconnects, chosen status, and reading presence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow
from quckchat.core.tokens import Principal
from quckchat.presence import devices, state, store
from quckchat.presence.schemas import (
    DeviceKind,
    PresenceInternal,
    PresenceMe,
    PresencePublic,
    Status,
    StatusUpdate,
)
from quckchat.user import client as user_client


async def heartbeat(
    runtime: Runtime,
    principal: Principal,
    device_id: str,
    *,
    active: bool,
    kind: DeviceKind | None,
    agent: str | None,
) -> None:
    """The device is connected; its kind as the client says, else as its User-Agent tells."""
    await devices.beat(
        runtime.cache,
        principal.user_id,
        device_id,
        active=active,
        kind=kind or devices.kind_of(agent),
        now=utcnow(),
    )
    await state.apply(runtime, principal.user_id, principal.tenant, state.heartbeat)


async def disconnect(runtime: Runtime, principal: Principal, device_id: str) -> None:
    """The device is gone; with the last one the user is offline at once, seen now."""
    await devices.drop(runtime.cache, principal.user_id, device_id)
    await state.apply(runtime, principal.user_id, principal.tenant, state.recount)


async def choose(runtime: Runtime, principal: Principal, body: StatusUpdate) -> PresenceMe:
    change = state.choose(body.status, body.dnd_until)
    await state.apply(runtime, principal.user_id, principal.tenant, change)
    return await me(runtime, principal)


async def me(runtime: Runtime, principal: Principal) -> PresenceMe:
    doc = await store.load(runtime, principal.user_id, principal.tenant)
    alive = await devices.alive(runtime.cache, principal.user_id)
    return PresenceMe(
        user_id=principal.user_id,
        status=state.shown(doc, utcnow()),
        last_seen=doc["last_seen"],
        chosen=Status(doc["status"]),
        dnd_until=doc["dnd_until"],
        devices=alive,
    )


def _view(user_id: str, doc: dict[str, Any] | None, *, seen: bool) -> PresencePublic:
    now = utcnow()
    return PresencePublic(
        user_id=user_id,
        status=state.shown(doc, now),
        last_seen=doc["last_seen"] if doc is not None and seen else None,
    )


async def query(
    runtime: Runtime, principal: Principal, user_ids: list[str]
) -> list[PresencePublic]:
    """Presence of each user in order, last seen as each one's privacy setting allows the
    viewer; users of another tenant look like users never seen."""
    wanted = list(dict.fromkeys(user_ids))
    docs = {
        user_id: doc
        for user_id, doc in (await store.find_many(runtime, wanted)).items()
        if doc["tenant"] == principal.tenant
    }
    with_times = [u for u, doc in docs.items() if doc["last_seen"] is not None]
    seen = (
        await user_client.last_seen_visible_to(runtime.http, principal.user_id, with_times)
        if with_times
        else set()
    )
    return [_view(u, docs.get(u), seen=u in seen) for u in wanted]


async def internal_query(
    runtime: Runtime, user_ids: list[str], *, active_within: int
) -> list[PresenceInternal]:
    """Presence for another service (whom to notify, and how): no privacy filter, with the
    do-not-disturb's end and whether a desktop or web client was active lately."""
    wanted = list(dict.fromkeys(user_ids))
    docs = await store.find_many(runtime, wanted)
    desk = await devices.desk_active_at(runtime.cache, wanted)
    now = utcnow()
    since = now - timedelta(seconds=active_within)
    found = []
    for user in wanted:
        doc, at = docs.get(user), desk.get(user)
        public = _view(user, doc, seen=True)
        dnd = doc is not None and public.status is Status.DND
        found.append(
            PresenceInternal(
                **public.model_dump(),
                dnd_until=doc["dnd_until"] if dnd and doc is not None else None,
                desktop_active=at is not None and at >= since,
                desktop_active_at=at,
            )
        )
    return found
