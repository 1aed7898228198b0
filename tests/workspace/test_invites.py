"""Invites: by email, phone or link; joining with the token; guests; the member quota."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from quckchat.core.sql import utcnow
from quckchat.workspace.models import Invite
from tests.workspace.harness import INTERNAL, Org, assert_problem, new_user


async def join(org: Org, token: str, user: str, tenant: str = "default") -> httpx.Response:
    return await org.workspace.post("/join", json={"token": token}, headers=org.auth(user, tenant))


async def test_an_email_invite_brings_a_member_into_general(org: Org) -> None:
    owner, bob = new_user(), new_user()
    ws = await org.create_workspace(owner)
    invite = await org.invite(ws["id"], owner, email="bob@example.com")
    assert invite["email"] == "bob@example.com" and invite["role"] == "member"
    assert invite["max_uses"] == 1 and invite["uses"] == 0
    assert invite["url"].endswith("/join/" + invite["token"])
    created = await org.wait_for("workspace.invite.created", invite_id=invite["id"])
    assert created.data["delivery"] == {
        "email": "bob@example.com",
        "phone": None,
        "url": invite["url"],
    }
    response = await join(org, invite["token"], bob)
    assert response.status_code == 201, response.text
    assert response.json() == {**response.json(), "workspace_id": ws["id"], "role": "member"}
    assert set(await org.channels(ws["id"], bob)) == {"general"}
    assert await org.allowed(bob, "workspace", "create-channel", ws["id"])
    joined = await org.wait_for("workspace.member.joined", user_id=bob)
    assert joined.data["actor"] == owner
    # A second try changes nothing; the spent single-use token now refuses others.
    again = await join(org, invite["token"], bob)
    assert again.status_code == 200 and again.json()["role"] == "member"
    other = await join(org, invite["token"], new_user())
    assert_problem(other, 410, "invite-expired")


async def test_a_link_invite_serves_many_and_a_phone_invite_one(org: Org) -> None:
    owner = new_user()
    ws = await org.create_workspace(owner)
    link = await org.invite(ws["id"], owner, max_uses=None)
    assert link["email"] is None and link["phone"] is None and link["max_uses"] is None
    for _ in range(3):
        response = await join(org, link["token"], new_user())
        assert response.status_code == 201
    phone = await org.invite(ws["id"], owner, phone="+4915112345678", max_uses=2)
    assert phone["phone"] == "+4915112345678" and phone["max_uses"] == 2
    listed = (await org.workspace.get(f"/{ws['id']}/invites", headers=org.auth(owner))).json()
    assert [i["id"] for i in listed["items"]] == [phone["id"], link["id"]]
    assert listed["items"][1]["uses"] == 3
    assert all("token" not in i and "url" not in i for i in listed["items"])


async def test_invite_input_and_rights(org: Org) -> None:
    owner, member, outsider = new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.add(ws["id"], owner, member)
    path = f"/{ws['id']}/invites"
    for body in (
        {"email": "a@example.com", "phone": "+4915112345678"},
        {"email": "not-an-email"},
        {"phone": "0151"},
        {"role": "owner"},
        {"role": "admin"},
        {"max_uses": 0},
        {"expires_in_days": 31},
    ):
        assert_problem(await org.workspace.post(path, json=body, headers=org.auth(owner)), 422)
    assert_problem(await org.workspace.post(path, json={}, headers=org.auth(member)), 403)
    assert_problem(await org.workspace.get(path, headers=org.auth(member)), 403)
    assert_problem(await org.workspace.post(path, json={}, headers=org.auth(outsider)), 404)
    assert_problem(await org.workspace.post(path, json={}), 401)


async def test_guest_invites_follow_the_setting(org: Org) -> None:
    owner, guest = new_user(), new_user()
    ws = await org.create_workspace(owner)
    path = f"/{ws['id']}/invites"
    response = await org.workspace.post(path, json={"role": "guest"}, headers=org.auth(owner))
    assert_problem(response, 409, "guests-not-allowed")
    await org.set_settings(ws["id"], owner, guests_allowed=True)
    invite = await org.invite(ws["id"], owner, role="guest")
    # Guests switched off again before the invite is used: it no longer admits anyone.
    await org.set_settings(ws["id"], owner, guests_allowed=False)
    refused = await join(org, invite["token"], guest)
    assert_problem(refused, 409, "guests-not-allowed")
    await org.set_settings(ws["id"], owner, guests_allowed=True)
    response = await join(org, invite["token"], guest)
    assert response.status_code == 201 and response.json()["role"] == "guest"
    assert await org.channels(ws["id"], guest) == {}
    assert not await org.allowed(guest, "workspace", "create-channel", ws["id"])


async def test_revoked_unknown_expired_and_foreign_tokens(org: Org) -> None:
    owner, bob = new_user(), new_user()
    ws = await org.create_workspace(owner)
    revoked = await org.invite(ws["id"], owner)
    path = f"/{ws['id']}/invites/{revoked['id']}"
    assert (await org.workspace.delete(path, headers=org.auth(owner))).status_code == 204
    assert_problem(await org.workspace.delete(path, headers=org.auth(owner)), 404)
    gone = await join(org, revoked["token"], bob)
    assert_problem(gone, 404)
    unknown = await join(org, "x" * 32, bob)
    assert_problem(unknown, 404)
    assert_problem(await join(org, "short", bob), 422)
    assert_problem(await org.workspace.post("/join", json={"token": "x" * 32}), 401)
    expired = await org.invite(ws["id"], owner)
    db = org.runtime("workspace").db
    assert db is not None
    async with db.session() as session:
        await session.execute(
            update(Invite)
            .where(Invite.id == expired["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    late = await join(org, expired["token"], bob)
    assert_problem(late, 410, "invite-expired")
    foreign = await org.invite(ws["id"], owner)
    other_tenant = await join(org, foreign["token"], bob, "other")
    assert_problem(other_tenant, 404)


async def test_the_member_quota_stops_invites_and_joins(org: Org) -> None:
    owner, bob, carl = new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    link = await org.invite(ws["id"], owner, max_uses=None)
    response = await org.workspace.patch(
        f"/internal/workspaces/by-slug/{ws['slug']}",
        json={"quotas": {"max_members": 2}},
        headers=INTERNAL,
    )
    assert response.status_code == 200 and response.json()["quotas"]["max_members"] == 2
    ok = await join(org, link["token"], bob)
    assert ok.status_code == 201
    full = await join(org, link["token"], carl)
    assert_problem(full, 409, "quota-exceeded")
    assert full.json()["quota"] == "max_members" and full.json()["limit"] == 2
    response = await org.workspace.post(f"/{ws['id']}/invites", json={}, headers=org.auth(owner))
    assert_problem(response, 409, "quota-exceeded")
    assert (await org.workspace.get(f"/{ws['id']}", headers=org.auth(owner))).json()[
        "member_count"
    ] == 2
