"""Concurrent requests: the last free seat goes to one joiner, a workspace's defaults exist once."""

from __future__ import annotations

import asyncio

from tests.worlds.identity import new_user
from tests.worlds.org import INTERNAL, Org
from tests.worlds.problems import assert_problem


async def test_the_last_seat_goes_to_one_of_two_joiners(org: Org) -> None:
    owner, ann, bob = new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    link = await org.invite(ws["id"], owner, max_uses=100)
    await org.workspace.patch(
        f"/internal/workspaces/by-slug/{ws['slug']}",
        json={"quotas": {"max_members": 2}},
        headers=INTERNAL,
    )
    answers = await asyncio.gather(
        *(
            org.workspace.post("/join", json={"token": link["token"]}, headers=org.auth(user))
            for user in (ann, bob)
        )
    )
    assert sorted(r.status_code for r in answers) == [201, 409]
    assert_problem(next(r for r in answers if r.status_code == 409), 409, "quota-exceeded")
    got = await org.workspace.get(f"/{ws['id']}", headers=org.auth(owner))
    assert got.json()["member_count"] == 2


async def test_a_single_use_invite_admits_one_of_two(org: Org) -> None:
    owner, ann, bob = new_user(), new_user(), new_user()
    ws = await org.create_workspace(owner)
    invite = await org.invite(ws["id"], owner)
    answers = await asyncio.gather(
        *(
            org.workspace.post("/join", json={"token": invite["token"]}, headers=org.auth(user))
            for user in (ann, bob)
        )
    )
    assert sorted(r.status_code for r in answers) == [201, 410]


async def test_a_retried_provisioning_makes_one_workspace(org: Org) -> None:
    owner = new_user()
    body = {
        "tenant": "default",
        "name": "Twice",
        "slug": "twice-" + owner[:8],
        "owner": {"user_id": owner},
    }
    answers = await asyncio.gather(
        *(org.workspace.post("/internal/workspaces", json=body, headers=INTERNAL) for _ in "ab")
    )
    assert sorted(r.status_code for r in answers) == [200, 201], [r.text for r in answers]
    assert answers[0].json()["workspace"]["id"] == answers[1].json()["workspace"]["id"]
    ws = answers[0].json()["workspace"]
    assert set(await org.channels(ws["id"], owner)) == {"general", "random"}
