"""Invites: by email, phone or link; joining with the token; guests; the member quota."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from quckchat.core.sql import utcnow
from quckchat.workspace.models import Invite
from tests.worlds.identity import new_user
from tests.worlds.org import INTERNAL, Org
from tests.worlds.problems import assert_problem


async def join(
    org: Org, token: str, user: str, tenant: str = "default", **claims: object
) -> httpx.Response:
    return await org.workspace.post(
        "/join", json={"token": token}, headers=org.auth(user, tenant, **claims)
    )


def verified_email(email: str) -> dict[str, object]:
    return {"email": email, "email_verified": True}


def verified_phone(phone: str) -> dict[str, object]:
    return {"phone_number": phone, "phone_number_verified": True}


async def members_of(org: Org, workspace_id: str, owner: str) -> set[str]:
    response = await org.workspace.get(f"/{workspace_id}/members", headers=org.auth(owner))
    assert response.status_code == 200, response.text
    return {m["user_id"] for m in response.json()["items"]}


async def test_an_email_invite_brings_its_invitee_into_general(org: Org) -> None:
    owner, bob = new_user(), new_user()
    ws = await org.create_workspace(owner)
    invite = await org.invite(ws["id"], owner, email="Bob@Example.com")
    assert invite["kind"] == "email" and invite["email"] == "bob@example.com"
    assert invite["role"] == "member" and invite["max_uses"] == 1 and invite["uses"] == 0
    assert invite["url"].endswith("/join/" + invite["token"])
    created = await org.wait_for("workspace.invite.created", invite_id=invite["id"])
    assert created.data["delivery"] == {
        "email": "bob@example.com",
        "phone": None,
        "url": invite["url"],
    }
    response = await join(org, invite["token"], bob, **verified_email("bob@example.com"))
    assert response.status_code == 201, response.text
    assert response.json() == {**response.json(), "workspace_id": ws["id"], "role": "member"}
    assert set(await org.channels(ws["id"], bob)) == {"general"}
    assert await org.allowed(bob, "workspace", "create-channel", ws["id"])
    joined = await org.wait_for("workspace.member.joined", user_id=bob)
    assert joined.data["actor"] == owner
    # A retry by the invitee changes nothing.
    again = await join(org, invite["token"], bob, **verified_email("bob@example.com"))
    assert again.status_code == 200 and again.json()["role"] == "member"


async def test_a_persons_invite_refuses_everyone_else_and_changes_nothing(org: Org) -> None:
    owner, mallory, bob = new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    by_email = await org.invite(ws["id"], owner, email="bob@example.com")
    by_phone = await org.invite(ws["id"], owner, phone="+15550000002")
    assert by_phone["kind"] == "phone" and by_phone["max_uses"] == 1
    strangers: list[dict[str, object]] = [
        {},
        verified_email("mallory@example.com"),
        verified_phone("+15550000001"),
        # The invitee's address, but only claimed at sign-up, never verified.
        {"email": "bob@example.com"},
        {"phone_number": "+15550000002", "phone_number_verified": "yes"},
    ]
    for claims in strangers:
        for invite in (by_email, by_phone):
            refused = await join(org, invite["token"], mallory, **claims)
            assert_problem(refused, 403, "invite-not-for-you")
    # Nothing changed: no member, no use counted, the invitees still get in.
    assert await members_of(org, ws["id"], owner) == {owner}
    listed = (await org.workspace.get(f"/{ws['id']}/invites", headers=org.auth(owner))).json()
    assert [i["uses"] for i in listed["items"]] == [0, 0]
    assert not [e for e in org.events("workspace.member.joined") if e.data["user_id"] == mallory]
    ok = await join(org, by_phone["token"], bob, **verified_phone("+15550000002"))
    assert ok.status_code == 201, ok.text
    carl = new_user()
    ok = await join(org, by_email["token"], carl, **verified_email("BOB@example.com"))
    assert ok.status_code == 201, ok.text
    assert await members_of(org, ws["id"], owner) == {owner, bob, carl}


async def test_a_link_invite_serves_its_limit_of_anyone(org: Org) -> None:
    owner = new_user()
    ws = await org.create_workspace(owner)
    link = await org.invite(ws["id"], owner, kind="link", max_uses=3)
    assert link["kind"] == "link" and link["email"] is None and link["phone"] is None
    assert link["max_uses"] == 3
    for _ in range(3):
        response = await join(org, link["token"], new_user())
        assert response.status_code == 201
    assert_problem(await join(org, link["token"], new_user()), 410, "invite-expired")
    phone = await org.invite(ws["id"], owner, phone="+4915112345678")
    listed = (await org.workspace.get(f"/{ws['id']}/invites", headers=org.auth(owner))).json()
    assert [i["id"] for i in listed["items"]] == [phone["id"], link["id"]]
    assert listed["items"][1]["uses"] == 3
    assert all("token" not in i and "url" not in i for i in listed["items"])


async def test_an_invite_previews_without_sign_in_until_it_is_spent(org: Org) -> None:
    owner = new_user()
    ws = await org.create_workspace(owner, name="Preview Co")
    link = await org.invite(ws["id"], owner, kind="link", max_uses=2)
    shown = await org.workspace.get(f"/invites/{link['token']}")
    assert shown.status_code == 200, shown.text
    preview = shown.json()
    assert (preview["workspace_id"], preview["workspace_name"]) == (ws["id"], "Preview Co")
    assert (preview["kind"], preview["role"], preview["invited_by"]) == ("link", "member", owner)
    assert preview["expires_at"] == link["expires_at"] and preview["uses_left"] == 2
    assert preview["invited_by_name"] is None  # the owner has set no name yet
    named = await org.mesh.client("user").patch(
        "/me", json={"display_name": "Olga Owner"}, headers=org.auth(owner)
    )
    assert named.status_code == 200, named.text
    again = (await org.workspace.get(f"/invites/{link['token']}")).json()
    assert again["invited_by_name"] == "Olga Owner"
    assert "token" not in preview and "email" not in preview
    for _ in range(2):
        assert (await join(org, link["token"], new_user())).status_code == 201
    assert_problem(await org.workspace.get(f"/invites/{link['token']}"), 410, "invite-expired")
    assert_problem(await org.workspace.get(f"/invites/{'x' * 32}"), 404)
    assert_problem(await org.workspace.get("/invites/short"), 422)


async def test_invite_input_and_rights(org: Org) -> None:
    owner, member, outsider = new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.add(ws["id"], owner, member)
    path = f"/{ws['id']}/invites"
    for body in (
        {},
        {"kind": "link"},
        {"kind": "link", "email": "a@example.com", "max_uses": 2},
        {"kind": "phone", "email": "a@example.com"},
        {"kind": "email"},
        {"email": "a@example.com", "max_uses": 2},
        {"kind": "anyone", "max_uses": 2},
        {"email": "a@example.com", "phone": "+4915112345678"},
        {"email": "not-an-email"},
        {"phone": "0151"},
        {"role": "owner"},
        {"role": "admin"},
        {"max_uses": 0},
        {"expires_in_days": 31},
    ):
        assert_problem(await org.workspace.post(path, json=body, headers=org.auth(owner)), 422)
    link = {"kind": "link", "max_uses": 1}
    assert_problem(await org.workspace.post(path, json=link, headers=org.auth(member)), 403)
    assert_problem(await org.workspace.get(path, headers=org.auth(member)), 403)
    assert_problem(await org.workspace.post(path, json=link, headers=org.auth(outsider)), 404)
    assert_problem(await org.workspace.post(path, json=link), 401)


async def test_guest_invites_follow_the_setting(org: Org) -> None:
    owner, guest = new_user(), new_user()
    ws = await org.create_workspace(owner)
    path = f"/{ws['id']}/invites"
    body = {"kind": "link", "max_uses": 1, "role": "guest"}
    response = await org.workspace.post(path, json=body, headers=org.auth(owner))
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
    link = await org.invite(ws["id"], owner, max_uses=100)
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
    response = await org.workspace.post(
        f"/{ws['id']}/invites", json={"kind": "link", "max_uses": 1}, headers=org.auth(owner)
    )
    assert_problem(response, 409, "quota-exceeded")
    assert (await org.workspace.get(f"/{ws['id']}", headers=org.auth(owner))).json()[
        "member_count"
    ] == 2
