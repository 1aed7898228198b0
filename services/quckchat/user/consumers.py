"""Events from the auth service: registrations bring phone hashes, suspensions hide users."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.core import logging as qlog
from quckchat.core.events import Event, first_delivery
from quckchat.core.runtime import Runtime
from quckchat.user.logic import ensure_profile
from quckchat.user.models import USER_ID_LENGTH, Profile, processed_events
from quckchat.user.schemas import PHONE_HASH_PATTERN

log = qlog.get("user.consumers")
_PHONE_HASH = re.compile(PHONE_HASH_PATTERN)

Effect = Callable[[Profile, Event], None]


def _registered(profile: Profile, event: Event) -> None:
    phone_hash = event.data.get("phone_hash")
    if phone_hash is None:
        return
    if isinstance(phone_hash, str) and _PHONE_HASH.match(phone_hash):
        profile.phone_hash = phone_hash
    else:
        log.warning("event %s carries a malformed phone_hash; ignored", event.id)


def _suspended(profile: Profile, event: Event) -> None:
    profile.status = "suspended"


def _reactivated(profile: Profile, event: Event) -> None:
    profile.status = "active"


EFFECTS: dict[str, Effect] = {
    "auth.user.registered": _registered,
    "auth.user.suspended": _suspended,
    "auth.user.reactivated": _reactivated,
}


async def apply_auth_event(session: AsyncSession, *, event: Event, default_tenant: str) -> bool:
    """Apply one auth event in the caller's transaction; False if ignored or seen before."""
    effect = EFFECTS.get(event.type)
    if effect is None:
        return False
    user_id = event.data.get("user_id")
    if not isinstance(user_id, str) or not 0 < len(user_id) <= USER_ID_LENGTH:
        log.warning("event %s (%s) has no usable user_id; ignored", event.id, event.type)
        return False
    if not await first_delivery(session, processed_events, event):
        return False
    tenant = event.tenant or default_tenant
    effect(await ensure_profile(session, user_id=user_id, tenant=tenant), event)
    return True


async def on_auth_event(runtime: Runtime, event: Event) -> None:
    """Consumer of the auth topic: each event's effect and its record commit together."""
    if runtime.db is None:
        raise RuntimeError("the user service needs its database")
    async with runtime.db.session() as session:
        await apply_auth_event(session, event=event, default_tenant=runtime.settings.default_tenant)
