"""Concurrent requests: one direct conversation per pair, one channel per internal name."""

from __future__ import annotations

import asyncio

from tests.worlds.org import INTERNAL, Org, team


async def test_two_people_opening_their_conversation_at_once_share_it(org: Org) -> None:
    ws, _, (ann, bob) = await team(org, "member", "member")
    answers = await asyncio.gather(
        *(
            org.channel.post(
                "/",
                json={"workspace_id": ws, "kind": "direct", "members": [other]},
                headers=org.auth(me),
            )
            for me, other in ((ann, bob), (bob, ann))
        )
    )
    assert sorted(r.status_code for r in answers) == [200, 201], [r.text for r in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]


async def test_concurrent_internal_creates_make_one_channel(org: Org) -> None:
    ws, owner, _ = await team(org)
    body = {"workspace_id": ws, "name": "once", "created_by": owner}
    answers = await asyncio.gather(
        *(org.channel.post("/internal/channels", json=body, headers=INTERNAL) for _ in range(3))
    )
    assert sorted(r.status_code for r in answers) == [200, 200, 201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert {r.json()["member_count"] for r in answers} == {1}


async def test_concurrent_joins_of_one_channel(org: Org) -> None:
    ws, _, (ann, bob) = await team(org, "member", "member")
    channel = await org.create_channel(ws, ann)
    answers = await asyncio.gather(
        *(org.channel.post(f"/{channel['id']}/join", headers=org.auth(bob)) for _ in range(3))
    )
    assert sorted(r.status_code for r in answers) == [200, 200, 201], [r.text for r in answers]


async def test_the_last_place_in_a_group_goes_to_one(org: Org) -> None:
    ws, _, users = await team(org, *["member"] * 10)
    group = await org.create_channel(ws, users[0], kind="group", members=users[1:8])
    answers = await asyncio.gather(
        *(
            org.channel.put(f"/{group['id']}/members/{user}", headers=org.auth(users[0]))
            for user in users[8:10]
        )
    )
    assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
