"""The internal API: default channels, memberships for the message service, id lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.worlds.identity import new_user
from tests.worlds.org import INTERNAL, Org, team
from tests.worlds.problems import assert_problem


async def internal_create(org: Org, ws: str, owner: str, name: str, **extra: Any) -> Any:
    body = {"workspace_id": ws, "name": name, "created_by": owner, **extra}
    return await org.channel.post("/internal/channels", json=body, headers=INTERNAL)


async def test_internal_create_is_idempotent_by_name(org: Org) -> None:
    ws, owner, _ = await team(org)
    first = await internal_create(org, ws, owner, "news", default=True, tenant="default")
    assert first.status_code == 201 and first.json()["member_count"] == 1
    assert first.json()["is_default"] is True
    again = await internal_create(org, ws, owner, "news", default=True)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert await org.allowed(owner, f"channel:{first.json()['id']}", "manage", ws)
    for body in (
        {"workspace_id": ws, "name": "Bad Name", "created_by": owner},
        {"workspace_id": ws, "name": "x", "created_by": owner, "kind": "direct"},
        {"workspace_id": ws, "name": "x"},
    ):
        response = await org.channel.post("/internal/channels", json=body, headers=INTERNAL)
        assert_problem(response, 422)


async def test_default_members_join_every_default_channel(org: Org) -> None:
    ws, owner, _ = await team(org)
    news = (await internal_create(org, ws, owner, "news", default=True)).json()
    channels = await org.channels(ws, owner)
    newcomer = new_user()
    path = f"/internal/workspaces/{ws}/default-members"
    # The newcomer must hold a workspace role first, as the workspace service gives one.
    await org.runtime("workspace").http.json(
        "permission",
        "PUT",
        "/internal/roles",
        json={"user_id": newcomer, "role": "member", "tenant": ws},
    )
    response = await org.channel.post(path, json={"user_id": newcomer}, headers=INTERNAL)
    assert sorted(response.json()) == sorted([news["id"], channels["general"]["id"]])
    again = await org.channel.post(path, json={"user_id": newcomer}, headers=INTERNAL)
    assert sorted(again.json()) == sorted(response.json())
    joined = await org.channel.get(f"/internal/users/{newcomer}/channels", headers=INTERNAL)
    assert sorted(joined.json()) == sorted(response.json())
    stranger = await org.channel.post(path, json={"user_id": new_user()}, headers=INTERNAL)
    assert_problem(stranger, 409, "not-a-member")


async def test_membership_answers_what_the_message_service_needs(org: Org) -> None:
    ws, _, (ann, bob) = await team(org, "member", "member")
    channel = await org.create_channel(ws, ann, members=[bob])
    await org.channel.patch(
        f"/{channel['id']}",
        json={"announcement_only": True, "disappearing_seconds": 60},
        headers=org.auth(ann),
    )
    path = f"/internal/channels/{channel['id']}/members"
    response = await org.channel.get(f"{path}/{bob}", headers=INTERNAL)
    assert response.json() == {
        "channel_id": channel["id"],
        "workspace_id": ws,
        "user_id": bob,
        "kind": "public",
        "role": "channel-member",
        "archived": False,
        "announcement_only": True,
        "disappearing_seconds": 60,
    }
    assert_problem(await org.channel.get(f"{path}/{new_user()}", headers=INTERNAL), 404)
    missing = await org.channel.get(
        f"/internal/channels/{'0' * 32}/members/{bob}", headers=INTERNAL
    )
    assert_problem(missing, 404)
    # Ids core lets through that this service never mints: no such channel, not a 422.
    for odd in ("a:b", "x" * 64):
        response = await org.channel.get(
            f"/internal/channels/{odd}/members/{bob}", headers=INTERNAL
        )
        assert_problem(response, 404)
        assert_problem(await org.channel.get(f"/{odd}", headers=org.auth(ann)), 404)
    assert_problem(await org.channel.get(f"{path}/{bob}", headers=org.auth(bob)), 401)


async def test_channel_details_and_member_ids(org: Org) -> None:
    ws, _, (ann, bob) = await team(org, "member", "member")
    channel = await org.create_channel(ws, ann, members=[bob])
    got = await org.channel.get(f"/internal/channels/{channel['id']}", headers=INTERNAL)
    assert got.json()["member_count"] == 2 and got.json()["id"] == channel["id"]
    ids = await org.channel.get(f"/internal/channels/{channel['id']}/member-ids", headers=INTERNAL)
    assert ids.json() == sorted([ann, bob])
    missing = "/internal/channels/" + "0" * 32
    assert_problem(await org.channel.get(missing, headers=INTERNAL), 404)
    assert_problem(await org.channel.get(missing + "/member-ids", headers=INTERNAL), 404)
    listed = await org.channel.get(f"/internal/workspaces/{ws}/channels", headers=INTERNAL)
    by_id = {c["id"]: c for c in listed.json()}
    assert by_id[channel["id"]]["member_count"] == 2 and len(by_id) == 3


async def test_the_notify_view_lists_members_with_their_mutes_and_levels(org: Org) -> None:
    ws, _, (ann, bob, carl) = await team(org, "member", "member", "member")
    channel = await org.create_channel(ws, ann, members=[bob, carl])
    until = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    body = {"until": until.isoformat()}
    await org.channel.put(f"/{channel['id']}/mute", json=body, headers=org.auth(bob))
    await org.channel.put(f"/{channel['id']}/mute", headers=org.auth(carl))
    levels = {"level": "all", "ignore_channel_mentions": True}
    await org.channel.put(f"/{channel['id']}/notifications", json=levels, headers=org.auth(carl))
    path = f"/internal/channels/{channel['id']}/notify-view"
    view = (await org.channel.get(path, headers=INTERNAL)).json()
    assert view["kind"] == channel["kind"] and view["workspace_id"] == ws
    members = {m["user_id"]: m for m in view["members"]}
    plain = {"level": "default", "ignore_channel_mentions": False}
    assert members[ann] == {"user_id": ann, "muted": False, "muted_until": None, **plain}
    assert datetime.fromisoformat(members[bob]["muted_until"]) == until
    assert members[carl] == {"user_id": carl, "muted": True, "muted_until": None, **levels}
    missing = "/internal/channels/" + "0" * 32 + "/notify-view"
    assert_problem(await org.channel.get(missing, headers=INTERNAL), 404)


async def test_readable_channels_for_search(org: Org) -> None:
    ws, owner, (ann, guest) = await team(org, "member", "guest")
    public = await org.create_channel(ws, owner)
    private = await org.create_channel(ws, owner, kind="private", members=[guest])
    hidden = await org.create_channel(ws, owner, kind="private")
    everything = await org.channels(ws, owner)
    path = "/internal/users/{}/readable-channels"
    ann_reads = await org.channel.get(
        path.format(ann), params={"workspace_id": ws}, headers=INTERNAL
    )
    public_ids = {everything[n]["id"] for n in ("general", "random")} | {public["id"]}
    assert set(ann_reads.json()) == public_ids
    guest_reads = await org.channel.get(
        path.format(guest), params={"workspace_id": ws}, headers=INTERNAL
    )
    assert guest_reads.json() == [private["id"]]
    assert hidden["id"] not in ann_reads.json()
    assert_problem(await org.channel.get(path.format(ann), headers=INTERNAL), 422)
    outsider = await org.channel.get(
        path.format(new_user()), params={"workspace_id": ws}, headers=INTERNAL
    )
    assert outsider.json() == []
