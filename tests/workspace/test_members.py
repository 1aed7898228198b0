"""Members and roles: listing, role changes (only owners touch owners), removal and leaving."""

from __future__ import annotations

from tests.worlds.identity import new_user
from tests.worlds.org import Org
from tests.worlds.problems import assert_problem


async def test_members_are_listed_in_pages_for_members_not_guests(org: Org) -> None:
    owner, ann, guest, outsider = new_user(), new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.set_settings(ws["id"], owner, guests_allowed=True)
    await org.add(ws["id"], owner, ann)
    await org.add(ws["id"], owner, guest, "guest")
    path = f"/{ws['id']}/members"
    first = (await org.workspace.get(path, params={"limit": 2}, headers=org.auth(ann))).json()
    assert [m["user_id"] for m in first["items"]] == [owner, ann]
    assert first["items"][0]["role"] == "owner" and first["items"][1]["invited_by"] == owner
    rest = await org.workspace.get(
        path, params={"cursor": first["next_cursor"]}, headers=org.auth(ann)
    )
    assert [(m["user_id"], m["role"]) for m in rest.json()["items"]] == [(guest, "guest")]
    assert rest.json()["next_cursor"] is None
    assert_problem(await org.workspace.get(path, headers=org.auth(guest)), 403)
    assert_problem(await org.workspace.get(path, headers=org.auth(outsider)), 404)
    bad = await org.workspace.get(path, params={"cursor": "garbage"}, headers=org.auth(ann))
    assert_problem(bad, 400, "bad-cursor")
    assert_problem(await org.workspace.get(path, params={"limit": 0}, headers=org.auth(ann)), 422)


async def test_roles_change_through_the_permission_service(org: Org) -> None:
    owner, admin, bob = new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.add(ws["id"], owner, admin, "admin")
    await org.add(ws["id"], owner, bob)
    role = f"/{ws['id']}/members/{bob}/role"
    assert not await org.allowed(bob, "members", "manage", ws["id"])
    response = await org.workspace.put(role, json={"role": "admin"}, headers=org.auth(admin))
    assert response.status_code == 200 and response.json()["role"] == "admin"
    assert await org.allowed(bob, "members", "manage", ws["id"])
    changed = await org.wait_for("workspace.member.role_changed", user_id=bob, role="admin")
    assert changed.data["previous_role"] == "member" and changed.data["actor"] == admin
    # Only an owner makes an owner.
    response = await org.workspace.put(role, json={"role": "owner"}, headers=org.auth(admin))
    assert_problem(response, 403)
    response = await org.workspace.put(role, json={"role": "owner"}, headers=org.auth(owner))
    assert response.json()["role"] == "owner"
    response = await org.workspace.put(
        f"/{ws['id']}/members/{owner}/role", json={"role": "admin"}, headers=org.auth(admin)
    )
    assert_problem(response, 403)


async def test_role_change_errors(org: Org) -> None:
    owner, bob, outsider = new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.add(ws["id"], owner, bob)
    mine = f"/{ws['id']}/members/{owner}/role"
    response = await org.workspace.put(mine, json={"role": "member"}, headers=org.auth(owner))
    assert_problem(response, 409, "last-owner")
    bobs = f"/{ws['id']}/members/{bob}/role"
    response = await org.workspace.put(bobs, json={"role": "guest"}, headers=org.auth(owner))
    assert_problem(response, 409, "guests-not-allowed")
    response = await org.workspace.put(bobs, json={"role": "admin"}, headers=org.auth(bob))
    assert_problem(response, 403)
    response = await org.workspace.put(bobs, json={"role": "boss"}, headers=org.auth(owner))
    assert_problem(response, 422)
    response = await org.workspace.put(
        f"/{ws['id']}/members/{outsider}/role", json={"role": "admin"}, headers=org.auth(owner)
    )
    assert_problem(response, 404)
    response = await org.workspace.put(bobs, json={"role": "admin"}, headers=org.auth(outsider))
    assert_problem(response, 404)
    response = await org.workspace.put(bobs, json={"role": "admin"})
    assert_problem(response, 401)


async def test_a_guest_made_member_joins_general(org: Org) -> None:
    owner, guest = new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.set_settings(ws["id"], owner, guests_allowed=True)
    await org.add(ws["id"], owner, guest, "guest")
    assert await org.channels(ws["id"], guest) == {}
    response = await org.workspace.put(
        f"/{ws['id']}/members/{guest}/role", json={"role": "member"}, headers=org.auth(owner)
    )
    assert response.status_code == 200
    assert set(await org.channels(ws["id"], guest)) == {"general"}


async def test_admins_remove_members_who_then_leave_every_channel(org: Org) -> None:
    owner, admin, bob, carl = new_user(), new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.add(ws["id"], owner, admin, "admin")
    await org.add(ws["id"], owner, bob)
    await org.add(ws["id"], owner, carl)
    general = (await org.channels(ws["id"], bob))["general"]
    path = f"/{ws['id']}/members/{bob}"
    assert_problem(await org.workspace.delete(path, headers=org.auth(carl)), 403)
    assert (await org.workspace.delete(path, headers=org.auth(admin))).status_code == 204
    removed = await org.wait_for("workspace.member.removed", user_id=bob)
    assert removed.data["actor"] == admin and removed.data["left"] is False
    await org.wait_for("channel.member.removed", channel_id=general["id"], user_id=bob)
    assert_problem(await org.workspace.get(f"/{ws['id']}", headers=org.auth(bob)), 404)
    assert_problem(await org.channel.get(f"/{general['id']}", headers=org.auth(bob)), 404)
    assert not await org.allowed(bob, "workspace", "read", ws["id"])
    assert_problem(await org.workspace.delete(path, headers=org.auth(admin)), 404)


async def test_members_leave_but_the_last_owner_stays(org: Org) -> None:
    owner, bob, second = new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.add(ws["id"], owner, bob)
    leave = await org.workspace.delete(f"/{ws['id']}/members/{bob}", headers=org.auth(bob))
    assert leave.status_code == 204
    left = await org.wait_for("workspace.member.removed", user_id=bob)
    assert left.data["left"] is True
    mine = f"/{ws['id']}/members/{owner}"
    assert_problem(await org.workspace.delete(mine, headers=org.auth(owner)), 409, "last-owner")
    await org.add(ws["id"], owner, second, "owner")
    assert (await org.workspace.delete(mine, headers=org.auth(owner))).status_code == 204
    assert (await org.workspace.get(f"/{ws['id']}", headers=org.auth(second))).status_code == 200


async def test_only_owners_remove_owners(org: Org) -> None:
    owner, admin, other_owner = new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.add(ws["id"], owner, admin, "admin")
    await org.add(ws["id"], owner, other_owner, "owner")
    path = f"/{ws['id']}/members/{other_owner}"
    assert_problem(await org.workspace.delete(path, headers=org.auth(admin)), 403)
    assert (await org.workspace.delete(path, headers=org.auth(owner))).status_code == 204
