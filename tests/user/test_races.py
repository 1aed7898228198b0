"""Concurrent first requests for the same row: one insert wins, the others read it."""

from __future__ import annotations

import asyncio

from tests.user.conftest import INTERNAL, UserApp
from tests.worlds.identity import new_user


async def test_concurrent_first_access_creates_one_profile(app: UserApp) -> None:
    me = new_user()
    answers = await asyncio.gather(*(app.get("/me", me) for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert len({a.json()["created_at"] for a in answers}) == 1
    stats = await app.client.get("/internal/stats", headers=INTERNAL)
    assert stats.json()["profiles"] == 1


async def test_concurrent_adds_of_one_contact_add_it_once(app: UserApp) -> None:
    alice = await app.register(new_user())
    bob = await app.register(new_user())
    answers = await asyncio.gather(
        *(app.client.put(f"/me/contacts/{bob}", headers=app.auth(alice)) for _ in range(5))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 200, 200, 200, 201], [a.text for a in answers]
    assert [e.type for e in app.emitted()] == ["user.contact.added"]
