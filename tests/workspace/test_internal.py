"""The internal API: memberships and quotas for services, provisioning for the operator."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support import SQL_BACKENDS, TestKeys
from tests.worlds.identity import new_user
from tests.worlds.org import INTERNAL, SERVICES, Org, running_org
from tests.worlds.problems import assert_problem


@pytest.fixture(scope="module", params=SQL_BACKENDS)
async def org(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Org]:
    """With the auth service too: an owner named by email is looked up there."""
    path = tmp_path_factory.mktemp("org")
    async with running_org(request.param, path, TestKeys(), services=["auth", *SERVICES]) as org:
        yield org


def slug() -> str:
    return "ws-" + uuid.uuid4().hex[:10]


def provision_body(owner: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return {
        "tenant": "acme",
        "name": "Acme",
        "slug": slug(),
        "owner": owner,
        "quotas": {"max_members": 50, "max_storage_bytes": 10 * 2**30},
        "settings": {"retention_days": 90, "guests_allowed": True},
        **overrides,
    }


async def provision(org: Org, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = await org.workspace.post("/internal/workspaces", json=body, headers=INTERNAL)
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_membership_workspaces_and_quota_for_services(org: Org) -> None:
    owner, bob, outsider = new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    await org.add(ws["id"], owner, bob)
    base = f"/internal/workspaces/{ws['id']}"
    response = await org.workspace.get(f"{base}/members/{bob}", headers=INTERNAL)
    assert response.json() == {"workspace_id": ws["id"], "user_id": bob, "role": "member"}
    assert_problem(await org.workspace.get(f"{base}/members/{outsider}", headers=INTERNAL), 404)
    mine = await org.workspace.get(f"/internal/users/{owner}/workspaces", headers=INTERNAL)
    assert mine.json() == [{"workspace_id": ws["id"], "role": "owner"}]
    none = await org.workspace.get(f"/internal/users/{outsider}/workspaces", headers=INTERNAL)
    assert none.json() == []
    quota = (await org.workspace.get(f"{base}/quota", headers=INTERNAL)).json()
    assert quota["member_count"] == 2 and quota["max_members"] == ws["quotas"]["max_members"]
    assert quota["max_storage_bytes"] == ws["quotas"]["max_storage_bytes"]
    assert quota["storage_used_bytes"] == 0
    missing = await org.workspace.get(
        "/internal/workspaces/" + "0" * 32 + "/quota", headers=INTERNAL
    )
    assert_problem(missing, 404)


async def test_internal_routes_are_for_services_only(org: Org) -> None:
    owner = new_user()
    ws = await org.create_workspace(owner)
    for path in (
        f"/internal/workspaces/{ws['id']}/members/{owner}",
        f"/internal/workspaces/{ws['id']}/quota",
        f"/internal/users/{owner}/workspaces",
        f"/internal/workspaces/by-slug/{ws['slug']}",
        "/internal/workspaces",
    ):
        assert_problem(await org.workspace.get(path, headers=org.auth(owner)), 401)
    response = await org.workspace.post("/internal/workspaces", json={}, headers=org.auth(owner))
    assert_problem(response, 401)


async def test_provisioning_is_idempotent_by_slug(org: Org) -> None:
    owner = new_user()
    body = provision_body({"user_id": owner})
    first = await provision(org, body)
    ws = first["workspace"]
    assert first["owner_invite"] is None
    assert ws["tenant"] == "acme" and ws["slug"] == body["slug"] and ws["owner_ids"] == [owner]
    assert ws["quotas"] == body["quotas"] and ws["settings"] == body["settings"]
    # The services that keep a copy of the retention setting learn it from the announcement.
    created = await org.wait_for("workspace.created", workspace_id=ws["id"])
    assert created.data["retention_days"] == 90
    again = await provision(org, body, status=200)
    assert again["workspace"]["id"] == ws["id"] and again["workspace"]["member_count"] == 1
    channels = await org.channels(ws["id"], owner)
    assert set(channels) == {"general", "random"}
    exported = await org.channel.get(f"/internal/workspaces/{ws['id']}/channels", headers=INTERNAL)
    assert sorted(c["name"] for c in exported.json()) == ["general", "random"]
    taken = await provision(org, {**body, "tenant": "someone-else"}, status=409)
    assert taken["type"].endswith("/slug-taken")
    # The owner signs in to the tenant the workspace was provisioned in.
    response = await org.workspace.get(f"/{ws['id']}", headers=org.auth(owner, "acme"))
    assert response.status_code == 200 and response.json()["role"] == "owner"


async def test_an_owner_without_an_account_gets_a_link_that_makes_them_owner(org: Org) -> None:
    body = provision_body({"email": f"{uuid.uuid4().hex[:8]}@example.com"})
    verified = {"email": body["owner"]["email"], "email_verified": True}
    first = await provision(org, body)
    ws, link = first["workspace"], first["owner_invite"]
    assert ws["owner_ids"] == [] and ws["member_count"] == 0
    assert link["role"] == "owner" and link["email"] == body["owner"]["email"]
    # A retry (its answer lost) issues a new link: the old one no longer works.
    retry = await provision(org, body, status=200)
    owner = new_user()
    stale = await org.workspace.post(
        "/join", json={"token": link["token"]}, headers=org.auth(owner, "acme", **verified)
    )
    assert_problem(stale, 404)
    response = await org.workspace.post(
        "/join",
        json={"token": retry["owner_invite"]["token"]},
        headers=org.auth(owner, "acme", **verified),
    )
    assert response.status_code == 201 and response.json()["role"] == "owner"
    retried = await org.workspace.post(
        "/join",
        json={"token": retry["owner_invite"]["token"]},
        headers=org.auth(owner, "acme", **verified),
    )
    assert retried.status_code == 200 and retried.json()["role"] == "owner"
    assert set(await org.channels(ws["id"], owner)) == {"general", "random"}
    settled = await provision(org, body, status=200)
    assert settled["owner_invite"] is None and settled["workspace"]["owner_ids"] == [owner]


async def test_an_owner_link_refuses_anyone_but_the_owner(org: Org) -> None:
    body = provision_body({"phone": "+15557770001"})
    link = (await provision(org, body))["owner_invite"]
    assert link["kind"] == "phone"
    mallory = {"phone_number": "+15557770002", "phone_number_verified": True}
    refused = await org.workspace.post(
        "/join", json={"token": link["token"]}, headers=org.auth(new_user(), "acme", **mallory)
    )
    assert_problem(refused, 403, "invite-not-for-you")
    owner = {"phone_number": "+15557770001", "phone_number_verified": True}
    joined = await org.workspace.post(
        "/join", json={"token": link["token"]}, headers=org.auth(new_user(), "acme", **owner)
    )
    assert joined.status_code == 201 and joined.json()["role"] == "owner"


async def test_an_owner_is_found_by_a_verified_email_only(org: Org) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    response = await org.mesh.client("auth").post(
        "/register", json={"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 201, response.text
    user_id = response.json()["user_id"]
    # Typed at sign-up, never proven: whoever registered it is not handed the workspace.
    claimed = await provision(org, provision_body({"email": email}))
    assert claimed["workspace"]["owner_ids"] == [] and claimed["owner_invite"]["kind"] == "email"
    await org.verify_email(user_id)
    result = await provision(org, provision_body({"email": email.upper()}))
    assert result["owner_invite"] is None and result["workspace"]["owner_ids"] == [user_id]


async def test_provisioning_input_is_checked(org: Org) -> None:
    for body in (
        provision_body({}),
        provision_body({"user_id": new_user(), "email": "a@example.com"}),
        provision_body({"user_id": new_user()}, slug="Bad_Slug"),
        provision_body({"user_id": new_user()}, quotas={"max_members": 0}),
        provision_body({"user_id": new_user()}, tenant=""),
    ):
        response = await org.workspace.post("/internal/workspaces", json=body, headers=INTERNAL)
        assert_problem(response, 422)


async def test_get_patch_export_and_delete_by_slug(org: Org) -> None:
    owner, bob = new_user(), new_user()
    body = provision_body({"user_id": owner})
    ws = (await provision(org, body))["workspace"]
    path = f"/internal/workspaces/by-slug/{body['slug']}"
    got = (await org.workspace.get(path, headers=INTERNAL)).json()
    assert got["id"] == ws["id"] and got["owner_ids"] == [owner]
    change = {
        "name": "Acme Two",
        "quotas": {"max_members": 10},
        "settings": {"retention_days": None},
    }
    patched = (await org.workspace.patch(path, json=change, headers=INTERNAL)).json()
    assert patched["name"] == "Acme Two" and patched["quotas"]["max_members"] == 10
    assert patched["settings"] == {"retention_days": None, "guests_allowed": True}
    assert patched["quotas"]["max_storage_bytes"] == body["quotas"]["max_storage_bytes"]
    invite = await org.workspace.post(
        f"/{ws['id']}/invites",
        json={"kind": "link", "max_uses": 1},
        headers=org.auth(owner, "acme"),
    )
    joined = await org.workspace.post(
        "/join", json={"token": invite.json()["token"]}, headers=org.auth(bob, "acme")
    )
    assert joined.status_code == 201
    below = await org.workspace.patch(path, json={"quotas": {"max_members": 1}}, headers=INTERNAL)
    assert_problem(below, 409)
    assert below.json()["type"].endswith("/quota-below-usage")
    kept = (await org.workspace.get(path, headers=INTERNAL)).json()
    assert kept["quotas"]["max_members"] == 10
    exported = (await org.workspace.post(path + "/export", headers=INTERNAL)).json()
    assert exported["workspace"]["id"] == ws["id"]
    assert [(m["user_id"], m["role"]) for m in exported["members"]] == [
        (owner, "owner"),
        (bob, "member"),
    ]
    general = next(c for c in exported["channels"] if c["name"] == "general")
    assert general["member_count"] == 2
    assert (await org.workspace.delete(path, headers=INTERNAL)).status_code == 204
    assert_problem(await org.workspace.get(path, headers=INTERNAL), 404)
    assert_problem(await org.workspace.delete(path, headers=INTERNAL), 404)
    assert_problem(await org.workspace.post(path + "/export", headers=INTERNAL), 404)
    await org.wait_for("channel.deleted", channel_id=general["id"])
    bad = await org.workspace.patch(path, json={"quotas": {"max_members": -1}}, headers=INTERNAL)
    assert_problem(bad, 422)


async def test_every_workspace_is_listed_in_id_order_a_batch_at_a_time(org: Org) -> None:
    made = [await org.create_workspace(new_user()) for _ in range(3)]
    elsewhere = (await provision(org, provision_body({"user_id": new_user()})))["workspace"]
    seen: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"after_id": after} if after else {})}
        response = await org.workspace.get("/internal/workspaces", params=params, headers=INTERNAL)
        assert response.status_code == 200, response.text
        batch = response.json()
        assert len(batch["items"]) <= 2
        seen += batch["items"]
        after = batch["next_after_id"]
        if after is None:
            break
    ids = [w["id"] for w in seen]
    assert ids == sorted(set(ids))
    listed = {w["id"]: w for w in seen}
    for ws in [*made, elsewhere]:
        assert listed[ws["id"]] == {
            "id": ws["id"],
            "tenant": ws.get("tenant", "default"),
            "slug": ws["slug"],
        }
    for params in ({"limit": 0}, {"limit": 201}, {"after_id": "not/an id"}):
        response = await org.workspace.get("/internal/workspaces", params=params, headers=INTERNAL)
        assert_problem(response, 422)
