"""Checks through the API: the default matrix, the token's tenant, the speed of a cached answer."""

from __future__ import annotations

from typing import Any

from quckchat.permission import decisions
from tests.permission import matrix
from tests.permission.conftest import SERVICE_HEADERS, PermissionApi


async def seat_everyone(api: PermissionApi) -> None:
    for user, (role, channels) in matrix.PEOPLE.items():
        if role is not None:
            await api.grant(user, role, matrix.TENANT)
        for channel_id, channel_role in channels.items():
            await api.grant(user, channel_role, matrix.TENANT, channel_id=channel_id)
    response = await api.client.put(
        f"/internal/platform-admins/{matrix.PLATFORM_ADMIN}", headers=SERVICE_HEADERS
    )
    assert response.status_code == 200, response.text


async def test_default_matrix_through_internal_check(api: PermissionApi) -> None:
    await seat_everyone(api)
    wrong = [
        case
        for case in matrix.cases()
        if await api.allowed(case[0], case[2], case[3], tenant=case[1]) is not case[4]
    ]
    assert wrong == []


async def test_public_check_uses_the_tokens_tenant(api: PermissionApi) -> None:
    await api.grant("ann", "owner", "t1")

    async def check(token_tenant: str, body: dict[str, str]) -> tuple[int, dict[str, Any]]:
        headers = api.user("ann", token_tenant)
        response = await api.client.post("/check", json=body, headers=headers)
        return response.status_code, response.json()

    manage_settings = {"object": "settings", "action": "manage"}
    assert await check("t1", manage_settings) == (200, {"allowed": True})
    assert await check("t2", manage_settings) == (200, {"allowed": False})
    status, problem = await check("t2", {**manage_settings, "tenant": "t1"})
    assert status == 422
    assert problem["type"].endswith("/validation-error")


async def test_public_check_needs_a_token(api: PermissionApi) -> None:
    response = await api.client.post("/check", json={"object": "workspace", "action": "read"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_internal_check_is_for_services_only(api: PermissionApi) -> None:
    body = {"subject": "ann", "object": "workspace", "action": "read", "tenant": "t1"}
    response = await api.client.post("/internal/check", json=body)
    assert response.status_code == 401


async def test_check_rejects_malformed_requests(api: PermissionApi) -> None:
    bad_bodies = [
        {"subject": "ann", "object": "workspace", "action": "read"},
        {"subject": "owner", "object": "workspace", "action": "read", "tenant": "t1"},
        {"subject": "ann", "object": "Channel:c1", "action": "read", "tenant": "t1"},
        {"subject": "ann", "object": "channel:c1", "action": "READ", "tenant": "t1"},
        {"subject": "ann", "object": "workspace", "action": "read", "tenant": "t1/channel:c1"},
        {"subject": "ann" * 30, "object": "workspace", "action": "read", "tenant": "t1"},
    ]
    for body in bad_bodies:
        response = await api.client.post("/internal/check", json=body, headers=SERVICE_HEADERS)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"


async def test_cached_decisions_follow_the_policy(api: PermissionApi) -> None:
    """Speed lives in bench/; here only that the cache answers as the policy does."""
    await api.grant("ann", "member", "t1")
    await api.grant("ann", "channel-member", "t1", channel_id="c1")
    assert await api.allowed("ann", "channel:c1", "read")
    policy = decisions.get(api.runtime)
    for _ in range(3):
        assert policy.allowed(subject="ann", tenant="t1", obj="channel:c1", action="read")
        assert not policy.allowed(subject="ann", tenant="t1", obj="channel:c2", action="read")


async def test_unknown_channels_do_not_grow_memory_without_bound(api: PermissionApi) -> None:
    policy = decisions.get(api.runtime)
    policy.max_domain_managers = 50
    for n in range(120):
        policy.allowed(subject="ann", tenant="t1", obj=f"channel:x{n}", action="read")
    assert 0 < len(policy.enforcer.get_role_manager().rm_map) <= 50
