"""Membership: join, leave, add, remove, channel roles mirrored into the permission service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from quckchat.user import client as user_client
from tests.worlds.identity import new_user
from tests.worlds.org import Org, team
from tests.worlds.problems import assert_problem
from tests.worlds.waiting import eventually


async def test_join_and_leave_a_public_channel(org: Org) -> None:
    ws, _, (ann, bob) = await team(org, "member", "member")
    channel = await org.create_channel(ws, ann)
    path = f"/{channel['id']}"
    joined = await org.channel.post(path + "/join", headers=org.auth(bob))
    assert joined.status_code == 201 and joined.json()["role"] == "channel-member"
    assert await org.allowed(bob, f"channel:{channel['id']}", "write", ws)
    assert (await org.channel.post(path + "/join", headers=org.auth(bob))).status_code == 200
    await org.wait_for("channel.member.joined", channel_id=channel["id"], user_id=bob)
    assert (await org.channel.post(path + "/leave", headers=org.auth(bob))).status_code == 204
    assert not await org.allowed(bob, f"channel:{channel['id']}", "write", ws)
    left = await org.wait_for("channel.member.left", channel_id=channel["id"], user_id=bob)
    assert left.data["actor"] == bob
    assert_problem(await org.channel.post(path + "/leave", headers=org.auth(bob)), 404)


async def test_join_is_for_public_channels_and_their_workspace(org: Org) -> None:
    ws, owner, (ann, bob, guest) = await team(org, "member", "member", "guest")
    private = await org.create_channel(ws, ann, kind="private")
    public = await org.create_channel(ws, ann)
    assert_problem(await org.channel.post(f"/{private['id']}/join", headers=org.auth(bob)), 404)
    assert_problem(await org.channel.post(f"/{public['id']}/join", headers=org.auth(guest)), 404)
    _, stranger, _ = await team(org)
    response = await org.channel.post(f"/{public['id']}/join", headers=org.auth(stranger))
    assert_problem(response, 404)
    direct = await org.create_channel(ws, ann, kind="direct", members=[owner])
    response = await org.channel.post(f"/{direct['id']}/join", headers=org.auth(owner))
    assert response.status_code == 200
    assert_problem(await org.channel.post(f"/{direct['id']}/leave", headers=org.auth(owner)), 409)


async def test_nobody_leaves_general(org: Org) -> None:
    ws, _, (ann,) = await team(org, "member")
    general = (await org.channels(ws, ann))["general"]
    response = await org.channel.post(f"/{general['id']}/leave", headers=org.auth(ann))
    assert_problem(response, 409, "default-channel")


async def test_adding_members(org: Org) -> None:
    ws, owner, (ann, bob, carl, guest) = await team(org, "member", "member", "member", "guest")
    public = await org.create_channel(ws, ann)
    private = await org.create_channel(ws, ann, kind="private", members=[bob])
    # Any member adds to a public channel; guests too may be added to one.
    added = await org.channel.put(f"/{public['id']}/members/{guest}", headers=org.auth(ann))
    assert added.status_code == 201 and added.json()["role"] == "channel-member"
    again = await org.channel.put(f"/{public['id']}/members/{guest}", headers=org.auth(ann))
    assert again.status_code == 200
    assert (await org.channel.get(f"/{public['id']}", headers=org.auth(guest))).status_code == 200
    not_in = await org.channel.put(f"/{public['id']}/members/{carl}", headers=org.auth(bob))
    assert_problem(not_in, 403, "not-a-member")
    # Private channels: channel admins only; a workspace owner outside one does not see it.
    response = await org.channel.put(f"/{private['id']}/members/{carl}", headers=org.auth(bob))
    assert_problem(response, 403)
    response = await org.channel.put(f"/{private['id']}/members/{carl}", headers=org.auth(owner))
    assert_problem(response, 404)
    response = await org.channel.put(f"/{private['id']}/members/{carl}", headers=org.auth(ann))
    assert response.status_code == 201
    stranger = new_user()
    response = await org.channel.put(f"/{private['id']}/members/{stranger}", headers=org.auth(ann))
    assert_problem(response, 409, "not-a-workspace-member")
    response = await org.channel.put(f"/{private['id']}/members/{carl}", headers=org.auth(stranger))
    assert_problem(response, 404)
    response = await org.channel.put(f"/{private['id']}/members/owner", headers=org.auth(ann))
    assert_problem(response, 422)


async def test_direct_and_group_membership_rules(org: Org) -> None:
    ws, _, users = await team(org, *["member"] * 10)
    direct = await org.create_channel(ws, users[0], kind="direct", members=[users[1]])
    response = await org.channel.put(
        f"/{direct['id']}/members/{users[2]}", headers=org.auth(users[0])
    )
    assert_problem(response, 409, "direct-fixed")
    response = await org.channel.delete(
        f"/{direct['id']}/members/{users[1]}", headers=org.auth(users[0])
    )
    assert_problem(response, 409, "direct-fixed")
    group = await org.create_channel(ws, users[0], kind="group", members=users[1:8])
    added = await org.channel.put(f"/{group['id']}/members/{users[8]}", headers=org.auth(users[1]))
    assert added.status_code == 201
    full = await org.channel.put(f"/{group['id']}/members/{users[9]}", headers=org.auth(users[1]))
    assert_problem(full, 409, "group-full")
    kicked = await org.channel.delete(
        f"/{group['id']}/members/{users[2]}", headers=org.auth(users[1])
    )
    assert_problem(kicked, 403)
    left = await org.channel.delete(
        f"/{group['id']}/members/{users[2]}", headers=org.auth(users[2])
    )
    assert left.status_code == 204
    role = await org.channel.put(
        f"/{group['id']}/members/{users[1]}/role",
        json={"role": "channel-admin"},
        headers=org.auth(users[0]),
    )
    assert_problem(role, 409, "no-roles")


async def test_removing_members(org: Org) -> None:
    ws, _, (ann, bob, carl) = await team(org, "member", "member", "member")
    channel = await org.create_channel(ws, ann, members=[bob, carl])
    base = f"/{channel['id']}/members"
    assert_problem(await org.channel.delete(f"{base}/{carl}", headers=org.auth(bob)), 403)
    assert (await org.channel.delete(f"{base}/{carl}", headers=org.auth(ann))).status_code == 204
    removed = await org.wait_for("channel.member.removed", channel_id=channel["id"], user_id=carl)
    assert removed.data["actor"] == ann
    assert not await org.allowed(carl, f"channel:{channel['id']}", "read", ws)
    assert_problem(await org.channel.delete(f"{base}/{carl}", headers=org.auth(ann)), 404)
    # Removing oneself is leaving.
    assert (await org.channel.delete(f"{base}/{bob}", headers=org.auth(bob))).status_code == 204
    await org.wait_for("channel.member.left", channel_id=channel["id"], user_id=bob)


async def test_channel_roles(org: Org) -> None:
    ws, _, (ann, bob) = await team(org, "member", "member")
    channel = await org.create_channel(ws, ann, members=[bob])
    path = f"/{channel['id']}/members/{bob}/role"
    obj = f"channel:{channel['id']}"
    response = await org.channel.put(path, json={"role": "channel-admin"}, headers=org.auth(bob))
    assert_problem(response, 403)
    response = await org.channel.put(path, json={"role": "channel-admin"}, headers=org.auth(ann))
    assert response.status_code == 200 and response.json()["role"] == "channel-admin"
    assert await org.allowed(bob, obj, "manage", ws)
    changed = await org.wait_for("channel.member.role_changed", user_id=bob)
    assert changed.data["previous_role"] == "channel-member"
    response = await org.channel.put(path, json={"role": "channel-member"}, headers=org.auth(bob))
    assert response.json()["role"] == "channel-member"
    assert not await org.allowed(bob, obj, "manage", ws)
    response = await org.channel.put(path, json={"role": "owner"}, headers=org.auth(ann))
    assert_problem(response, 422)
    response = await org.channel.put(
        f"/{channel['id']}/members/{new_user()}/role",
        json={"role": "channel-admin"},
        headers=org.auth(ann),
    )
    assert_problem(response, 404)


async def test_member_list_pages_and_mute(org: Org) -> None:
    ws, _, (ann, bob, carl, guest) = await team(org, "member", "member", "member", "guest")
    channel = await org.create_channel(ws, ann, members=[bob, carl])
    path = f"/{channel['id']}/members"
    first = (await org.channel.get(path, params={"limit": 2}, headers=org.auth(carl))).json()
    rest = await org.channel.get(
        path, params={"cursor": first["next_cursor"]}, headers=org.auth(carl)
    )
    listed = [m["user_id"] for m in first["items"] + rest.json()["items"]]
    assert sorted(listed) == sorted([ann, bob, carl]) and len(first["items"]) == 2
    assert first["items"][0] == {**first["items"][0], "user_id": ann, "role": "channel-admin"}
    assert_problem(await org.channel.get(path, headers=org.auth(guest)), 404)
    muted = await org.channel.put(f"/{channel['id']}/mute", headers=org.auth(bob))
    assert muted.status_code == 200 and muted.json()["muted"] is True
    assert (await org.channel.delete(f"/{channel['id']}/mute", headers=org.auth(bob))).json()[
        "muted"
    ] is False
    other = await org.create_channel(ws, ann)
    assert_problem(await org.channel.put(f"/{other['id']}/mute", headers=org.auth(bob)), 403)


async def test_a_member_sets_the_channels_notification_level_and_keeps_the_rest(
    org: Org,
) -> None:
    ws, _, (ann, bob, carl) = await team(org, "member", "member", "member")
    channel = await org.create_channel(ws, ann, members=[bob])
    path = f"/{channel['id']}/notifications"
    fresh = (await org.channel.get(f"/{channel['id']}", headers=org.auth(bob))).json()
    assert (fresh["notify_level"], fresh["ignore_channel_mentions"]) == ("default", False)
    set_all = await org.channel.put(path, json={"level": "all"}, headers=org.auth(bob))
    assert set_all.status_code == 200, set_all.text
    ignoring = await org.channel.put(
        path, json={"ignore_channel_mentions": True}, headers=org.auth(bob)
    )
    assert (ignoring.json()["notify_level"], ignoring.json()["ignore_channel_mentions"]) == (
        "all",
        True,
    )
    shown = (await org.channel.get(f"/{channel['id']}", headers=org.auth(bob))).json()
    assert shown["notify_level"] == "all"
    for bad in ({"level": "loud"}, {"level": None}, {"colour": "red"}):
        assert_problem(await org.channel.put(path, json=bad, headers=org.auth(bob)), 422)
    assert_problem(await org.channel.put(path, json={"level": "none"}, headers=org.auth(carl)), 403)


async def test_a_mute_may_end_and_an_unmute_clears_its_end(org: Org) -> None:
    ws, _, (ann, bob) = await team(org, "member", "member")
    channel = await org.create_channel(ws, ann, members=[bob])
    path = f"/{channel['id']}/mute"
    until = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    muted = await org.channel.put(path, json={"until": until.isoformat()}, headers=org.auth(bob))
    assert muted.status_code == 200, muted.text
    assert muted.json()["muted"] is True
    assert datetime.fromisoformat(muted.json()["muted_until"]) == until
    forever = (await org.channel.put(path, headers=org.auth(bob))).json()
    assert forever["muted"] is True and forever["muted_until"] is None
    again = await org.channel.put(path, json={"until": until.isoformat()}, headers=org.auth(bob))
    assert again.json()["muted_until"] is not None
    unmuted = (await org.channel.delete(path, headers=org.auth(bob))).json()
    assert unmuted["muted"] is False and unmuted["muted_until"] is None
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    for bad in ({"until": past}, {"until": "2030-01-01T00:00:00"}, {"for": 3}):
        assert_problem(await org.channel.put(path, json=bad, headers=org.auth(bob)), 422)


async def test_member_lists_show_names_follow_a_rename_and_outlive_the_user_service(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, owner, (ann, bob, carl) = await team(org, "member", "member", "member")
    users = org.mesh.client("user")

    async def rename(user: str, name: str) -> None:
        response = await users.patch("/me", json={"display_name": name}, headers=org.auth(user))
        assert response.status_code == 200, response.text

    for user, name in ((owner, "Olga"), (ann, "Ann"), (bob, "Bob"), (carl, "Carl")):
        await rename(user, name)
    channel = await org.create_channel(ws, ann, members=[bob])

    async def names(path: str, client: httpx.AsyncClient) -> dict[str, str | None]:
        response = await client.get(path, headers=org.auth(ann))
        assert response.status_code == 200, response.text
        return {m["user_id"]: m["display_name"] for m in response.json()["items"]}

    in_channel = f"/{channel['id']}/members"
    assert await names(in_channel, org.channel) == {ann: "Ann", bob: "Bob"}
    in_workspace = f"/{ws}/members"
    expected = {owner: "Olga", ann: "Ann", bob: "Bob", carl: "Carl"}
    assert await names(in_workspace, org.workspace) == expected
    added = await org.channel.put(f"{in_channel}/{carl}", headers=org.auth(ann))
    assert added.status_code == 201 and added.json()["display_name"] == "Carl"

    # A new name shows at once: each service forgets the old one on the user's event.
    await rename(bob, "Robert")
    renamed = {ann: "Ann", bob: "Robert", carl: "Carl"}
    assert await eventually(lambda: names(in_channel, org.channel), until=renamed) == renamed

    # Without the user service the list still answers; names it never had are left out.
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    mounts = {f"http://{n}": httpx.ASGITransport(app=a) for n, a in org.mesh.apps.items()}
    mounts["http://user"] = httpx.MockTransport(refuse)
    runtime = org.runtime("channel")
    monkeypatch.setattr(runtime.http, "client", httpx.AsyncClient(mounts=mounts))
    dave = new_user()
    await org.add(ws, owner, dave)
    await rename(dave, "Dave")
    assert (await org.channel.post(f"/{channel['id']}/join", headers=org.auth(dave))).is_success
    assert await names(in_channel, org.channel) == {**renamed, dave: None}


async def test_names_come_in_batches_and_an_older_user_service_leaves_them_out(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = org.runtime("channel")
    named = [new_user() for _ in range(2)]
    for user, name in zip(named, ("Ann", "Bob"), strict=True):
        response = await org.mesh.client("user").patch(
            "/me", json={"display_name": name}, headers=org.auth(user)
        )
        assert response.status_code == 200, response.text
    strangers = [new_user() for _ in range(user_client.MAX_NAMES_QUERY + 100)]
    found = await user_client.display_names(runtime, [*strangers, *named])
    assert found == dict(zip(named, ("Ann", "Bob"), strict=True))

    # A user service that does not know the call yet (a rolling upgrade): no error; the names
    # kept from before still show, a name not kept is left out.
    cy = new_user()
    renamed = await org.mesh.client("user").patch(
        "/me", json={"display_name": "Cy"}, headers=org.auth(cy)
    )
    assert renamed.status_code == 200, renamed.text

    def not_yet(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"type": "about:blank", "title": "Not Found"})

    mounts = {f"http://{n}": httpx.ASGITransport(app=a) for n, a in org.mesh.apps.items()}
    mounts["http://user"] = httpx.MockTransport(not_yet)
    monkeypatch.setattr(runtime.http, "client", httpx.AsyncClient(mounts=mounts))
    assert await user_client.display_names(runtime, [cy, *named]) == dict(
        zip(named, ("Ann", "Bob"), strict=True)
    )
