"""Role assignment through the public and internal APIs, on every SQL backend."""

from __future__ import annotations

from typing import Any

import httpx

from tests.permission.conftest import SERVICE_HEADERS, PermissionApi


async def put_role(api: PermissionApi, caller: str, user_id: str, role: str) -> httpx.Response:
    return await api.client.put(f"/roles/{user_id}", json={"role": role}, headers=api.user(caller))


async def put_channel_role(
    api: PermissionApi, caller: str, channel_id: str, user_id: str, role: str
) -> httpx.Response:
    return await api.client.put(
        f"/channels/{channel_id}/roles/{user_id}", json={"role": role}, headers=api.user(caller)
    )


def problem_type(response: httpx.Response) -> str:
    assert response.headers["content-type"] == "application/problem+json", response.text
    slug: str = response.json()["type"].rsplit("/", 1)[-1]
    return slug


async def test_owners_and_admins_assign_workspace_roles(api: PermissionApi) -> None:
    await api.grant("ann", "owner")

    response = await put_role(api, "ann", "bob", "admin")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("user_id", "role", "tenant", "channel_id")} == {
        "user_id": "bob",
        "role": "admin",
        "tenant": "t1",
        "channel_id": None,
    }
    assert await api.allowed("bob", "members", "manage")

    assert (await put_role(api, "bob", "carl", "member")).status_code == 200
    assert (await put_role(api, "carl", "dan", "member")).status_code == 403
    assert not await api.allowed("dan", "workspace", "read")


async def test_only_an_owner_makes_or_unmakes_owners(api: PermissionApi) -> None:
    await api.grant("ann", "owner")
    await api.grant("bob", "admin")

    assert (await put_role(api, "bob", "bob", "owner")).status_code == 403
    assert (await put_role(api, "bob", "ann", "member")).status_code == 403
    response = await api.client.delete("/roles/ann", headers=api.user("bob"))
    assert response.status_code == 403
    assert problem_type(response) == "forbidden"

    assert (await put_role(api, "ann", "bob", "owner")).status_code == 200
    assert await api.allowed("bob", "workspace", "manage")


async def test_the_last_owner_stays_an_owner(api: PermissionApi) -> None:
    await api.grant("ann", "owner")

    response = await put_role(api, "ann", "ann", "admin")
    assert response.status_code == 409
    assert problem_type(response) == "last-owner"
    response = await api.client.delete("/roles/ann", headers=api.user("ann"))
    assert response.status_code == 409
    response = await api.client.put(
        "/internal/roles",
        json={"user_id": "ann", "role": "member", "tenant": "t1"},
        headers=SERVICE_HEADERS,
    )
    assert problem_type(response) == "last-owner"
    response = await api.client.delete(
        "/internal/roles", params={"user_id": "ann", "tenant": "t1"}, headers=SERVICE_HEADERS
    )
    assert response.status_code == 409
    assert await api.allowed("ann", "workspace", "manage")

    await api.grant("bob", "owner")
    assert (await put_role(api, "ann", "ann", "member")).status_code == 200
    assert not await api.allowed("ann", "workspace", "manage")
    assert (await put_role(api, "bob", "bob", "guest")).status_code == 409


async def test_owners_of_other_workspaces_do_not_count(api: PermissionApi) -> None:
    await api.grant("ann", "owner", "t1")
    await api.grant("bob", "owner", "t2")
    await api.grant("ann", "owner", "t2")
    assert (await put_role(api, "ann", "ann", "admin")).status_code == 409


async def test_channel_roles_are_given_by_admins_and_that_channels_admins(
    api: PermissionApi,
) -> None:
    await api.grant("ann", "owner")
    await api.grant("adam", "admin")
    await api.grant("cleo", "member")
    await api.grant("cleo", "channel-admin", channel_id="c1")
    await api.grant("mo", "member")
    await api.grant("gus", "guest")

    assert (await put_channel_role(api, "cleo", "c1", "gus", "channel-member")).status_code == 200
    assert await api.allowed("gus", "channel:c1", "write")
    assert not await api.allowed("gus", "channel:c2", "read")

    assert (await put_channel_role(api, "cleo", "c2", "gus", "channel-member")).status_code == 403
    assert (await put_channel_role(api, "mo", "c1", "mo", "channel-admin")).status_code == 403
    assert (await put_channel_role(api, "adam", "c2", "mo", "channel-admin")).status_code == 200
    assert await api.allowed("mo", "channel:c2", "manage")
    assert not await api.allowed("mo", "channel:c1", "manage")

    response = await put_channel_role(api, "ann", "c1", "stranger", "channel-member")
    assert response.status_code == 409
    assert problem_type(response) == "not-a-member"

    response = await api.client.delete("/channels/c1/roles/gus", headers=api.user("cleo"))
    assert response.status_code == 204
    assert not await api.allowed("gus", "channel:c1", "read")
    response = await api.client.delete("/channels/c1/roles/gus", headers=api.user("cleo"))
    assert response.status_code == 404
    assert problem_type(response) == "not-found"


async def test_leaving_a_workspace_ends_its_channel_roles(api: PermissionApi) -> None:
    await api.grant("ann", "owner")
    await api.grant("mo", "member")
    await api.grant("mo", "channel-member", channel_id="c1")
    await api.grant("mo", "channel-admin", channel_id="c2")
    await api.grant("mo", "member", "t2")
    await api.grant("mo", "channel-member", "t2", channel_id="c1")

    response = await api.client.delete("/roles/mo", headers=api.user("ann"))
    assert response.status_code == 204
    assert not await api.allowed("mo", "channel:c1", "read")
    mine = (await api.client.get("/me/roles", headers=api.user("mo"))).json()
    assert (mine["role"], mine["channels"]) == (None, [])
    assert await api.allowed("mo", "channel:c1", "read", tenant="t2")


async def test_listing_assignments_pages_through_the_callers_tenant(api: PermissionApi) -> None:
    await api.grant("ann", "owner")
    for user in ("u1", "u2", "u3", "u4"):
        await api.grant(user, "member")
    await api.grant("u2", "channel-admin", channel_id="c1")
    await api.grant("gus", "guest")
    await api.grant("zed", "owner", "t2")
    await api.grant("zed", "owner", "t_")

    seen: list[tuple[str, str, str | None]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await api.client.get("/roles", params=params, headers=api.user("u1"))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [(i["user_id"], i["role"], i["channel_id"]) for i in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    # Ordered by user id; one user's workspace and channel roles in no particular order.
    assert [user for user, _, _ in seen] == ["ann", "gus", "u1", "u2", "u2", "u3", "u4"]
    assert set(seen) == {
        ("ann", "owner", None),
        ("gus", "guest", None),
        ("u1", "member", None),
        ("u2", "member", None),
        ("u2", "channel-admin", "c1"),
        ("u3", "member", None),
        ("u4", "member", None),
    }

    # `_` is a LIKE wildcard: the tenant `t_` must not see t1's channel roles.
    response = await api.client.get("/roles", headers=api.user("zed", "t_"))
    assert [(i["user_id"], i["tenant"]) for i in response.json()["items"]] == [("zed", "t_")]

    response = await api.client.get("/roles", headers=api.user("gus"))
    assert response.status_code == 403
    response = await api.client.get("/roles", params={"cursor": "nonsense"}, headers=api.user("u1"))
    assert response.status_code == 400
    assert problem_type(response) == "bad-cursor"


async def test_my_roles(api: PermissionApi) -> None:
    await api.grant("mo", "member")
    await api.grant("mo", "channel-member", channel_id="c2")
    await api.grant("mo", "channel-admin", channel_id="c1")
    await api.grant("mo", "admin", "t2")

    response = await api.client.get("/me/roles", headers=api.user("mo"))
    assert response.json() == {
        "user_id": "mo",
        "tenant": "t1",
        "role": "member",
        "channels": [
            {"channel_id": "c1", "role": "channel-admin"},
            {"channel_id": "c2", "role": "channel-member"},
        ],
        "platform_admin": False,
    }
    other = (await api.client.get("/me/roles", headers=api.user("mo", "t3"))).json()
    assert (other["role"], other["channels"]) == (None, [])


async def test_platform_administrators(api: PermissionApi) -> None:
    await api.grant("ann", "owner")
    assert not await api.allowed("ann", "platform", "administer", tenant="platform")

    for _ in range(2):
        response = await api.client.put("/internal/platform-admins/ann", headers=SERVICE_HEADERS)
        assert response.status_code == 200
        assert response.json()["role"] == "platform-admin"
    assert await api.allowed("ann", "platform", "administer", tenant="platform")
    assert await api.allowed("ann", "platform", "audit.read", tenant="platform")
    assert not await api.allowed("ann", "platform", "administer")
    mine = (await api.client.get("/me/roles", headers=api.user("ann"))).json()
    assert (mine["role"], mine["platform_admin"]) == ("owner", True)

    response = await api.client.delete("/internal/platform-admins/ann", headers=SERVICE_HEADERS)
    assert response.status_code == 204
    assert not await api.allowed("ann", "platform", "administer", tenant="platform")
    response = await api.client.delete("/internal/platform-admins/ann", headers=SERVICE_HEADERS)
    assert response.status_code == 404


async def test_internal_role_changes_need_a_calling_service(api: PermissionApi) -> None:
    response = await api.client.put(
        "/internal/roles", json={"user_id": "ann", "role": "owner", "tenant": "t1"}
    )
    assert response.status_code == 401
    response = await api.client.put("/internal/platform-admins/ann")
    assert response.status_code == 401
    assert not await api.allowed("ann", "workspace", "read")


async def test_bad_input_is_a_422_problem(api: PermissionApi) -> None:
    await api.grant("ann", "owner")
    owner = api.user("ann")
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", "/roles/bob", {"json": {"role": "superuser"}}),
        ("PUT", "/roles/bob", {"json": {"role": "channel-admin"}}),
        ("PUT", "/roles/bob", {"json": {"role": "platform-admin"}}),
        ("PUT", "/roles/bob", {"json": {}}),
        ("PUT", "/roles/bob", {"json": {"role": "member", "tenant": "t2"}}),
        ("PUT", "/roles/bob", {"content": b"not json"}),
        ("PUT", "/roles/owner", {"json": {"role": "member"}}),
        ("PUT", "/roles/bad%20id", {"json": {"role": "member"}}),
        ("PUT", f"/roles/{'x' * 65}", {"json": {"role": "member"}}),
        ("DELETE", "/roles/-bob", {}),
        ("PUT", "/channels/c1/roles/bob", {"json": {"role": "member"}}),
        ("PUT", "/channels/-c1/roles/bob", {"json": {"role": "channel-member"}}),
        ("DELETE", f"/channels/{'c' * 65}/roles/bob", {}),
        ("GET", "/roles", {"params": {"limit": 0}}),
        ("GET", "/roles", {"params": {"limit": 100000}}),
    ]
    for method, path, kwargs in requests:
        response = await api.client.request(method, path, headers=owner, **kwargs)
        assert response.status_code == 422, (method, path, response.text)
        assert problem_type(response) == "validation-error"

    internal: list[tuple[str, dict[str, Any]]] = [
        ("PUT", {"json": {"user_id": "bob", "role": "channel-member", "tenant": "t1"}}),
        ("PUT", {"json": {"user_id": "bob", "role": "member", "tenant": "t1", "channel_id": "c"}}),
        ("PUT", {"json": {"user_id": "bob", "role": "owner", "tenant": "platform"}}),
        ("PUT", {"json": {"user_id": "bob", "role": "owner", "tenant": "t1/channel:c1"}}),
        ("PUT", {"json": {"user_id": "guest", "role": "owner", "tenant": "t1"}}),
        ("DELETE", {"params": {"user_id": "bob"}}),
        ("DELETE", {"params": {"user_id": "bob", "tenant": "t1", "extra": "1"}}),
    ]
    for method, kwargs in internal:
        response = await api.client.request(
            method, "/internal/roles", headers=SERVICE_HEADERS, **kwargs
        )
        assert response.status_code == 422, (method, kwargs, response.text)
        assert problem_type(response) == "validation-error"
    listing = (await api.client.get("/roles", headers=owner)).json()["items"]
    assert [i["user_id"] for i in listing] == ["ann"]
