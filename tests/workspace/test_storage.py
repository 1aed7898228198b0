"""Storage use: reservations within the quota, releases, retries counted once, races."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from quckchat.workspace.client import StorageQuotaExceeded, release_storage, reserve_storage
from tests.worlds.identity import new_user
from tests.worlds.org import INTERNAL, Org
from tests.worlds.problems import assert_problem


async def workspace_with_quota(org: Org, max_storage_bytes: int) -> dict[str, Any]:
    ws = await org.create_workspace(new_user())
    response = await set_quota(org, ws, max_storage_bytes)
    assert response.status_code == 200, response.text
    return ws


async def set_quota(org: Org, ws: dict[str, Any], max_storage_bytes: int) -> httpx.Response:
    return await org.set_storage_quota(ws["slug"], max_storage_bytes)


async def quota(org: Org, ws: dict[str, Any]) -> dict[str, Any]:
    return await org.storage(ws["id"])


async def change(org: Org, ws: dict[str, Any], kind: str, key: str, size: int) -> httpx.Response:
    return await org.workspace.put(
        f"/internal/workspaces/{ws['id']}/storage/{kind}/{key}",
        json={"bytes": size},
        headers=INTERNAL,
    )


async def used(org: Org, ws: dict[str, Any]) -> int:
    return int((await quota(org, ws))["storage_used_bytes"])


def key() -> str:
    return uuid.uuid4().hex


async def test_reservations_count_within_the_quota_once_each(org: Org) -> None:
    ws = await workspace_with_quota(org, 1000)
    assert await used(org, ws) == 0
    first = await change(org, ws, "reservations", "file-1", 300)
    assert first.status_code == 201, first.text
    assert first.json() == {
        "workspace_id": ws["id"],
        "max_storage_bytes": 1000,
        "storage_used_bytes": 300,
    }
    retried = await change(org, ws, "reservations", "file-1", 300)
    assert retried.status_code == 200 and retried.json()["storage_used_bytes"] == 300
    reused = await change(org, ws, "reservations", "file-1", 400)
    assert_problem(reused, 409, "storage-change-reused")
    refused = await change(org, ws, "reservations", "file-2", 800)
    assert_problem(refused, 409, "storage-quota-exceeded")
    body = refused.json()
    assert (body["quota"], body["limit"], body["used"], body["asked"]) == (
        "max_storage_bytes",
        1000,
        300,
        800,
    )
    assert "300" in body["detail"] and "1000" in body["detail"] and "800" in body["detail"]
    assert await used(org, ws) == 300
    # A refused reservation left no key behind: asked again when it fits, it is made.
    exact = await change(org, ws, "reservations", "file-2", 700)
    assert exact.status_code == 201 and exact.json()["storage_used_bytes"] == 1000
    assert_problem(
        await change(org, ws, "reservations", "file-3", 1), 409, "storage-quota-exceeded"
    )
    view = await quota(org, ws)
    assert view["storage_used_bytes"] == 1000 and view["max_storage_bytes"] == 1000
    assert view["member_count"] == 1


async def test_releases_count_out_once_and_never_below_zero(org: Org) -> None:
    ws = await workspace_with_quota(org, 1000)
    assert (await change(org, ws, "reservations", "file-1", 600)).status_code == 201
    # The file's id keys both its reservation and its release.
    gone = await change(org, ws, "releases", "file-1", 600)
    assert gone.status_code == 201 and gone.json()["storage_used_bytes"] == 0
    assert (await change(org, ws, "reservations", "file-2", 400)).status_code == 201
    again = await change(org, ws, "releases", "file-1", 600)
    assert again.status_code == 200 and again.json()["storage_used_bytes"] == 400
    floor = await change(org, ws, "releases", "untracked", 5000)
    assert floor.status_code == 201 and floor.json()["storage_used_bytes"] == 0
    assert await used(org, ws) == 0


async def test_lowering_the_quota_below_usage_is_refused(org: Org) -> None:
    ws = await workspace_with_quota(org, 1000)
    assert (await change(org, ws, "reservations", key(), 600)).status_code == 201
    below = await set_quota(org, ws, 599)
    assert_problem(below, 409, "quota-below-usage")
    assert (below.json()["quota"], below.json()["limit"], below.json()["used"]) == (
        "max_storage_bytes",
        599,
        600,
    )
    same = await set_quota(org, ws, 600)
    assert same.status_code == 200 and same.json()["quotas"]["max_storage_bytes"] == 600
    assert_problem(await change(org, ws, "reservations", key(), 1), 409, "storage-quota-exceeded")


async def test_bad_requests_and_missing_workspaces(org: Org) -> None:
    ws = await workspace_with_quota(org, 1000)
    for size in (0, -1, 2**53 + 1):
        assert_problem(await change(org, ws, "reservations", key(), size), 422)
    assert_problem(await change(org, ws, "reservations", "x" * 65, 1), 422)
    assert_problem(await change(org, ws, "reservations", "File-1", 1), 422)
    missing = {"id": "0" * 32}
    assert_problem(await change(org, missing, "reservations", key(), 1), 404)
    assert_problem(await change(org, missing, "releases", key(), 1), 404)
    path = f"/internal/workspaces/{ws['id']}/storage/reservations/{key()}"
    owner_token = org.auth(ws["created_by"])
    assert_problem(await org.workspace.put(path, json={"bytes": 1}, headers=owner_token), 401)
    response = await org.workspace.delete(f"/{ws['id']}", headers=owner_token)
    assert response.status_code == 204, response.text
    assert_problem(await change(org, ws, "reservations", key(), 1), 404)


async def test_concurrent_reservations_never_pass_the_quota(org: Org) -> None:
    ws = await workspace_with_quota(org, 750)
    answers = await asyncio.gather(
        *(change(org, ws, "reservations", key(), 100) for _ in range(12))
    )
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] * 7 + [409] * 5, [r.text for r in answers]
    assert await used(org, ws) == 700


async def test_concurrent_retries_of_one_reservation_count_once(org: Org) -> None:
    ws = await workspace_with_quota(org, 1000)
    same = key()
    answers = await asyncio.gather(*(change(org, ws, "reservations", same, 100) for _ in range(6)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201], [r.text for r in answers]
    assert {r.json()["storage_used_bytes"] for r in answers} == {100}
    assert await used(org, ws) == 100


async def test_a_quota_lowered_during_reservations_is_never_passed(org: Org) -> None:
    ws = await workspace_with_quota(org, 1000)
    *answers, lowered = await asyncio.gather(
        *(change(org, ws, "reservations", key(), 100) for _ in range(10)),
        set_quota(org, ws, 500),
    )
    made = sum(r.status_code == 201 for r in answers)
    view = await quota(org, ws)
    assert view["storage_used_bytes"] == 100 * made <= view["max_storage_bytes"]
    if lowered.status_code == 200:
        assert view["max_storage_bytes"] == 500
    else:
        assert_problem(lowered, 409, "quota-below-usage")
        assert view["max_storage_bytes"] == 1000 and lowered.json()["used"] > 500


async def test_the_client_for_other_services(org: Org) -> None:
    ws = await workspace_with_quota(org, 1000)
    caller = org.runtime("channel")
    usage = await reserve_storage(caller, workspace_id=ws["id"], reservation_id="f1", size=900)
    assert usage.storage_used_bytes == 900 and usage.max_storage_bytes == 1000
    again = await reserve_storage(caller, workspace_id=ws["id"], reservation_id="f1", size=900)
    assert again.storage_used_bytes == 900
    with pytest.raises(StorageQuotaExceeded) as refused:
        await reserve_storage(caller, workspace_id=ws["id"], reservation_id="f2", size=200)
    assert (refused.value.limit, refused.value.used, refused.value.asked) == (1000, 900, 200)
    assert refused.value.status == 409 and refused.value.slug == "storage-quota-exceeded"
    freed = await release_storage(caller, workspace_id=ws["id"], release_id="f1", size=900)
    assert freed.storage_used_bytes == 0
