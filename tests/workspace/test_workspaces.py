"""Workspaces: create with an owner and default channels, see, list, change and delete."""

from __future__ import annotations

from tests.worlds.identity import new_user
from tests.worlds.org import Org
from tests.worlds.problems import assert_problem


async def test_create_makes_the_caller_owner_with_general_and_random(org: Org) -> None:
    owner = new_user()
    ws = await org.create_workspace(owner, name="Acme Rockets!")
    assert ws["role"] == "owner" and ws["member_count"] == 1 and ws["created_by"] == owner
    assert ws["slug"].startswith("acme-rockets")
    assert ws["settings"] == {"retention_days": None, "guests_allowed": False}
    assert ws["quotas"]["max_members"] >= 1
    assert await org.allowed(owner, "workspace", "delete", ws["id"])
    channels = await org.channels(ws["id"], owner)
    assert set(channels) == {"general", "random"}
    assert channels["general"]["is_default"] and not channels["random"]["is_default"]
    assert all(c["role"] == "channel-admin" for c in channels.values())
    created = await org.wait_for("workspace.created", workspace_id=ws["id"])
    assert created.data["actor"] == owner and created.tenant == "default"
    await org.wait_for("workspace.member.joined", workspace_id=ws["id"], user_id=owner)


async def test_a_taken_slug_is_a_conflict_and_a_derived_one_gets_a_suffix(org: Org) -> None:
    owner = new_user()
    first = await org.create_workspace(owner, name="Same Name")
    second = await org.create_workspace(owner, name="Same Name")
    assert first["slug"] != second["slug"] and second["slug"].startswith(first["slug"])
    response = await org.workspace.post(
        "/", json={"name": "Other", "slug": first["slug"]}, headers=org.auth(owner)
    )
    assert_problem(response, 409, "slug-taken")


async def test_bad_input_and_missing_token(org: Org) -> None:
    owner = new_user()
    assert_problem(await org.workspace.post("/", json={"name": "x"}), 401)
    assert_problem(await org.workspace.get("/"), 401)
    for body in ({"name": ""}, {"name": "x" * 81}, {"name": "ok", "slug": "Not A Slug"}, {}):
        response = await org.workspace.post("/", json=body, headers=org.auth(owner))
        assert_problem(response, 422)


async def test_list_shows_only_the_callers_workspaces_in_their_tenant(org: Org) -> None:
    ann, bob = new_user(), new_user()
    mine = await org.create_workspace(ann)
    await org.create_workspace(bob)
    elsewhere = await org.create_workspace(ann, tenant="other")
    listed = (await org.workspace.get("/", headers=org.auth(ann))).json()
    assert [w["id"] for w in listed] == [mine["id"]]
    assert listed[0]["role"] == "owner" and listed[0]["member_count"] == 1
    other = (await org.workspace.get("/", headers=org.auth(ann, "other"))).json()
    assert [w["id"] for w in other] == [elsewhere["id"]]


async def test_outsiders_and_other_tenants_get_404(org: Org) -> None:
    owner, outsider = new_user(), new_user()
    ws = await org.create_workspace(owner)
    path = f"/{ws['id']}"
    assert_problem(await org.workspace.get(path, headers=org.auth(outsider)), 404)
    assert_problem(await org.workspace.get(path, headers=org.auth(owner, "other")), 404)
    assert_problem(await org.workspace.get("/" + "f" * 32, headers=org.auth(owner)), 404)
    response = await org.workspace.patch(path, json={"name": "x"}, headers=org.auth(outsider))
    assert_problem(response, 404)
    assert_problem(await org.workspace.delete(path, headers=org.auth(outsider)), 404)
    assert (await org.workspace.get(path, headers=org.auth(owner))).status_code == 200


async def test_update_name_is_for_owners_settings_for_admins(org: Org) -> None:
    owner, admin, member = new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.add(ws["id"], owner, admin, "admin")
    await org.add(ws["id"], owner, member)
    path = f"/{ws['id']}"
    response = await org.workspace.patch(path, json={"name": "Renamed"}, headers=org.auth(owner))
    assert response.status_code == 200 and response.json()["name"] == "Renamed"
    response = await org.workspace.patch(path, json={"name": "Nope"}, headers=org.auth(admin))
    assert_problem(response, 403)
    settings = {"settings": {"retention_days": 30, "guests_allowed": True}}
    response = await org.workspace.patch(path, json=settings, headers=org.auth(admin))
    assert response.status_code == 200, response.text
    assert response.json()["settings"] == {"retention_days": 30, "guests_allowed": True}
    assert response.json()["role"] == "admin" and response.json()["member_count"] == 3
    response = await org.workspace.patch(path, json=settings, headers=org.auth(member))
    assert_problem(response, 403)
    forever = {"settings": {"retention_days": None}}
    response = await org.workspace.patch(path, json=forever, headers=org.auth(owner))
    assert response.json()["settings"]["retention_days"] is None
    updated = await org.wait_for("workspace.updated", workspace_id=ws["id"], actor=admin)
    assert updated.data["changed"] == ["guests_allowed", "retention_days"]


async def test_update_rejects_bad_values(org: Org) -> None:
    owner = new_user()
    ws = await org.create_workspace(owner)
    path = f"/{ws['id']}"
    for body in (
        {"name": None},
        {"settings": None},
        {"settings": {"retention_days": 0}},
        {"settings": {"guests_allowed": None}},
        {"quotas": {"max_members": 5}},
        {"unknown": 1},
    ):
        response = await org.workspace.patch(path, json=body, headers=org.auth(owner))
        assert_problem(response, 422)


async def test_only_owners_delete_and_channels_go_with_the_workspace(org: Org) -> None:
    owner, admin = new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.add(ws["id"], owner, admin, "admin")
    general = (await org.channels(ws["id"], owner))["general"]
    path = f"/{ws['id']}"
    assert_problem(await org.workspace.delete(path, headers=org.auth(admin)), 403)
    assert (await org.workspace.delete(path, headers=org.auth(owner))).status_code == 204
    assert_problem(await org.workspace.get(path, headers=org.auth(owner)), 404)
    await org.wait_for("workspace.deleted", workspace_id=ws["id"], actor=owner)
    await org.wait_for("channel.deleted", channel_id=general["id"])
    response = await org.channel.get(f"/{general['id']}", headers=org.auth(owner))
    assert_problem(response, 404)
    assert not await org.allowed(admin, "members", "read", ws["id"])
