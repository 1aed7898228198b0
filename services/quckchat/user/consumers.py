"""Events from the auth service: registrations bring phone hashes, suspensions hide users."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.auth.events import AccountEvent, UserReactivated, UserRegistered, UserSuspended
from quckchat.core import logging as qlog
from quckchat.core.events import Event, first_delivery
from quckchat.core.runtime import Runtime
from quckchat.core.values import DISPLAY_NAME_LENGTH
from quckchat.user.events import ProfileUpdated
from quckchat.user.logic import ensure_profile
from quckchat.user.models import USER_ID_LENGTH, Profile, processed_events
from quckchat.user.schemas import PHONE_HASH_PATTERN

log = qlog.get("user.consumers")
_PHONE_HASH = re.compile(PHONE_HASH_PATTERN)

# The auth events the user service follows, by type.
FOLLOWED: dict[str, type[AccountEvent]] = {
    kind.type: kind for kind in (UserRegistered, UserSuspended, UserReactivated)
}


def _effect(profile: Profile, change: AccountEvent, event_id: str) -> list[str]:
    """Apply the change; the profile fields its owner sees that took a new value."""
    if isinstance(change, UserRegistered):
        changed = []
        name = (change.display_name or "").strip()[:DISPLAY_NAME_LENGTH]
        if name and profile.display_name is None:  # a name the user set since stays
            profile.display_name = name
            changed.append("display_name")
        if change.phone_hash is None:
            return changed
        if _PHONE_HASH.match(change.phone_hash):
            profile.phone_hash = change.phone_hash
        else:
            log.warning("event %s carries a malformed phone_hash; ignored", event_id)
        return changed
    status = "suspended" if isinstance(change, UserSuspended) else "active"
    if profile.status == status:
        return []
    profile.status = status
    return ["status"]


async def apply_auth_event(
    session: AsyncSession, *, event: Event, default_tenant: str
) -> ProfileUpdated | None:
    """Apply one auth event in the caller's transaction: the profile change to announce, if
    any; None when ignored or seen before."""
    kind = FOLLOWED.get(event.type)
    if kind is None:
        return None
    change = kind.parse(event)
    if change is None:
        return None
    if not 0 < len(change.user_id) <= USER_ID_LENGTH:
        log.warning("event %s (%s) has no usable user_id; ignored", event.id, event.type)
        return None
    if not await first_delivery(session, processed_events, event):
        return None
    tenant = event.tenant or default_tenant
    profile = await ensure_profile(session, user_id=change.user_id, tenant=tenant)
    changed = _effect(profile, change, event.id)
    # Services that keep a user's name or standing (user.client's cache) hear of the change.
    return ProfileUpdated(user_id=change.user_id, changed=changed, actor=change.user_id)


async def on_auth_event(runtime: Runtime, event: Event) -> None:
    """Consumer of the auth topic: each event's effect, its record and its announcement
    commit together."""
    if runtime.db is None:
        raise RuntimeError("the user service needs its database")
    async with runtime.db.session() as session:
        tenant = runtime.settings.default_tenant
        updated = await apply_auth_event(session, event=event, default_tenant=tenant)
        if updated is not None and updated.changed:
            await runtime.emit(updated, tenant=event.tenant or tenant, session=session)
