"""The auth events the user service consumes: delivered at least once, applied once."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from quckchat.user.consumers import apply_auth_event
from quckchat.user.models import Profile, processed_events
from tests.user.conftest import UserApp, auth_event
from tests.worlds.identity import new_user, phone_hash, registered


async def profile_of(app: UserApp, user: str) -> Profile | None:
    assert app.runtime.db is not None
    async with app.runtime.db.session() as session:
        return await session.get(Profile, user)


async def count_processed(app: UserApp) -> int:
    assert app.runtime.db is not None
    async with app.runtime.db.session() as session:
        count = await session.scalar(select(func.count()).select_from(processed_events))
    return int(count or 0)


async def test_a_redelivered_registration_has_no_second_effect(app: UserApp) -> None:
    user = new_user()
    event = registered(user, phone="+4915112345678")
    assert app.runtime.db is not None
    async with app.runtime.db.session() as session:
        assert await apply_auth_event(session, event=event, default_tenant="default") is not None
    async with app.runtime.db.session() as session:
        assert await apply_auth_event(session, event=event, default_tenant="default") is None
    await app.deliver(event)

    profile = await profile_of(app, user)
    assert profile is not None
    assert profile.phone_hash == phone_hash("+4915112345678")
    assert profile.tenant == "default" and profile.status == "active"
    assert await count_processed(app) == 1
    assert app.emitted() == []


async def test_a_redelivered_suspension_does_not_undo_a_later_reactivation(app: UserApp) -> None:
    user = new_user()
    suspended = auth_event("auth.user.suspended", user, reason="spam")
    await app.deliver(registered(user))
    await app.deliver(suspended)
    assert (profile := await profile_of(app, user)) and profile.status == "suspended"
    await app.deliver(auth_event("auth.user.reactivated", user, reason=None))
    await app.deliver(suspended)
    assert (profile := await profile_of(app, user)) and profile.status == "active"
    assert [e.data["changed"] for e in app.emitted()] == [["status"], ["status"]]
    me = (await app.get("/me", user)).json()
    assert me["status"] == "active"


async def test_events_published_on_the_bus_reach_the_consumer(app: UserApp) -> None:
    """Through the in-process bus the app subscribed to, duplicates included."""
    user = new_user()
    event = registered(user, phone="+15550001111")
    await app.runtime.events.publish("quckchat.auth", event)
    await app.runtime.events.publish("quckchat.auth", event)
    for _ in range(200):
        if await count_processed(app) and await profile_of(app, user):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    profile = await profile_of(app, user)
    assert profile is not None and profile.phone_hash == phone_hash("+15550001111")
    assert await count_processed(app) == 1


async def test_an_existing_profile_gains_the_phone_hash(app: UserApp) -> None:
    user = new_user()
    patched = await app.client.patch("/me", json={"display_name": "Early"}, headers=app.auth(user))
    assert patched.status_code == 200
    await app.deliver(registered(user, phone="+15550002222"))
    profile = await profile_of(app, user)
    assert profile is not None
    assert profile.display_name == "Early"
    assert profile.phone_hash == phone_hash("+15550002222")


async def test_the_name_given_at_sign_up_becomes_the_profiles_unless_one_was_set(
    app: UserApp,
) -> None:
    named = new_user()
    await app.deliver(registered(named, phone="+15550003333", display_name="  Ada Lovelace "))
    me = (await app.get("/me", named)).json()
    assert me["display_name"] == "Ada Lovelace"
    # Announced, so services that keep names (user.client's cache) drop what they had.
    (updated,) = app.emitted()
    assert (updated.type, updated.data["user_id"]) == ("user.profile.updated", named)
    assert updated.data["changed"] == ["display_name"]
    early = new_user()
    patched = await app.client.patch("/me", json={"display_name": "Mine"}, headers=app.auth(early))
    assert patched.status_code == 200
    app.emitted()
    await app.deliver(registered(early, display_name="From sign-up"))
    assert (profile := await profile_of(app, early)) and profile.display_name == "Mine"
    assert app.emitted() == []
    unnamed = new_user()
    await app.deliver(registered(unnamed, display_name="   "))
    assert (profile := await profile_of(app, unnamed)) and profile.display_name is None


async def test_unusable_events_are_ignored(app: UserApp) -> None:
    user = new_user()
    await app.deliver(auth_event("auth.login.failed", user))
    await app.deliver(auth_event("auth.user.registered", "x" * 65, method="otp"))
    bad = auth_event("auth.user.registered", "", method="otp", phone_hash=None)
    await app.deliver(bad)
    # Not a registration as auth declares it (no method): ignored, not retried forever.
    await app.deliver(auth_event("auth.user.registered", new_user(), phone_hash=None))
    assert await count_processed(app) == 0
    malformed_hash = auth_event("auth.user.registered", user, method="otp", phone_hash="NOT-A-HASH")
    await app.deliver(malformed_hash)
    profile = await profile_of(app, user)
    assert profile is not None and profile.phone_hash is None
    other = new_user()
    await app.deliver(registered(other, tenant="acme"))
    assert (profile := await profile_of(app, other)) and profile.tenant == "acme"
