"""Channels: the four kinds and their rules, seeing, listing, browsing, changing, archiving."""

from __future__ import annotations

from typing import Any

from tests.worlds.identity import new_user
from tests.worlds.org import Org, team
from tests.worlds.problems import assert_problem


async def test_public_and_private_channels_make_the_creator_admin(org: Org) -> None:
    ws, _, (ann, bob) = await team(org, "member", "member")
    channel = await org.create_channel(ws, ann, name="launch", topic=" Go! ", members=[bob])
    assert channel["kind"] == "public" and channel["name"] == "launch"
    assert channel["topic"] == "Go!" and channel["role"] == "channel-admin"
    assert channel["created_by"] == ann and channel["unread"] == 0
    assert await org.allowed(ann, f"channel:{channel['id']}", "manage", ws)
    assert await org.allowed(bob, f"channel:{channel['id']}", "write", ws)
    assert not await org.allowed(bob, f"channel:{channel['id']}", "manage", ws)
    private = await org.create_channel(ws, ann, kind="private", name="secret")
    assert private["kind"] == "private"
    created = await org.wait_for("channel.created", channel_id=channel["id"])
    assert created.data["workspace_id"] == ws and created.data["actor"] == ann
    assert created.key == channel["id"]
    await org.wait_for("channel.member.joined", channel_id=channel["id"], user_id=bob)


async def test_create_errors(org: Org) -> None:
    ws, owner, (ann, guest) = await team(org, "member", "guest")
    outsider = new_user()
    await org.create_channel(ws, ann, name="taken")

    async def create(user: str, **body: Any) -> Any:
        return await org.channel.post(
            "/", json={"workspace_id": ws, **body}, headers=org.auth(user)
        )

    assert_problem(await create(ann, name="taken"), 409, "name-taken")
    for body in (
        {"name": "Upper"},
        {"name": "has space"},
        {"name": "x" * 81},
        {},
        {"kind": "direct", "name": "named", "members": [owner]},
        {"kind": "group", "name": "named", "members": [owner, guest]},
        {"kind": "secret", "name": "x"},
        {"name": "ok", "members": ["channel-admin"]},
    ):
        assert_problem(await create(ann, **body), 422)
    assert_problem(await create(guest, name="guest-room"), 403)
    assert_problem(await create(outsider, name="nope"), 404)
    assert_problem(await create(ann, name="with-stranger", members=[outsider]), 409)
    response = await org.channel.post("/", json={"workspace_id": ws, "name": "x"})
    assert_problem(response, 401)


async def test_one_direct_conversation_per_pair(org: Org) -> None:
    ws, _, (ann, bob) = await team(org, "member", "member")
    first = await org.create_channel(ws, ann, kind="direct", members=[bob])
    assert first["kind"] == "direct" and first["name"] is None
    assert first["role"] == "channel-member"
    response = await org.channel.post(
        "/",
        json={"workspace_id": ws, "kind": "direct", "members": [ann, bob]},
        headers=org.auth(bob),
    )
    assert response.status_code == 200 and response.json()["id"] == first["id"]
    for members in ([], [ann], [bob, new_user()]):
        response = await org.channel.post(
            "/",
            json={"workspace_id": ws, "kind": "direct", "members": members},
            headers=org.auth(ann),
        )
        assert_problem(response, 422)


async def test_group_conversations_hold_three_to_nine(org: Org) -> None:
    ws, owner, users = await team(org, *["member"] * 9)
    group = await org.create_channel(ws, users[0], kind="group", members=users[1:3])
    assert group["kind"] == "group" and group["name"] is None
    largest = await org.create_channel(ws, users[0], kind="group", members=users[1:])
    assert largest["kind"] == "group"
    for others in (users[1:2], [owner, *users[1:]]):
        response = await org.channel.post(
            "/",
            json={"workspace_id": ws, "kind": "group", "members": others},
            headers=org.auth(users[0]),
        )
        assert_problem(response, 422)


async def test_who_sees_a_channel(org: Org) -> None:
    ws, owner, (ann, bob, guest) = await team(org, "member", "member", "guest")
    public = await org.create_channel(ws, ann)
    private = await org.create_channel(ws, ann, kind="private")
    direct = await org.create_channel(ws, ann, kind="direct", members=[owner])
    seen = await org.channel.get(f"/{public['id']}", headers=org.auth(bob))
    assert seen.status_code == 200 and seen.json()["role"] is None
    for channel in (private, direct):
        assert_problem(await org.channel.get(f"/{channel['id']}", headers=org.auth(bob)), 404)
    assert_problem(await org.channel.get(f"/{public['id']}", headers=org.auth(guest)), 404)
    # A user of another workspace, or of another tenant, sees none of them.
    other_ws, stranger, _ = await team(org)
    for channel in (public, private, direct):
        response = await org.channel.get(f"/{channel['id']}", headers=org.auth(stranger))
        assert_problem(response, 404)
    assert_problem(await org.channel.get("/" + "0" * 32, headers=org.auth(ann)), 404)
    assert_problem(await org.channel.get("/bad id!", headers=org.auth(ann)), 422)
    assert_problem(await org.channel.get(f"/{public['id']}"), 401)
    assert other_ws != ws


async def test_my_channels_and_browsing(org: Org) -> None:
    ws, owner, (ann, guest) = await team(org, "member", "guest")
    mine = await org.create_channel(ws, ann, name="a-mine")
    other = await org.create_channel(ws, owner, name="b-other")
    await org.create_channel(ws, owner, kind="private", name="c-hidden")
    archived = await org.create_channel(ws, owner, name="d-archived")
    response = await org.channel.post(f"/{archived['id']}/archive", headers=org.auth(owner))
    assert response.status_code == 200
    listed = await org.channel.get(
        "/", params={"workspace_id": ws, "limit": 1}, headers=org.auth(ann)
    )
    page = listed.json()
    assert [c["name"] for c in page["items"]] == ["general"] and page["next_cursor"]
    rest = await org.channel.get(
        "/",
        params={"workspace_id": ws, "cursor": page["next_cursor"]},
        headers=org.auth(ann),
    )
    assert [c["id"] for c in rest.json()["items"]] == [mine["id"]]
    browse = await org.channel.get("/browse", params={"workspace_id": ws}, headers=org.auth(ann))
    names = [(c["name"], c["role"]) for c in browse.json()["items"]]
    assert names == [
        ("a-mine", "channel-admin"),
        ("b-other", None),
        ("general", "channel-member"),
        ("random", None),
    ]
    assert other["id"] in {c["id"] for c in browse.json()["items"]}
    guest_browse = await org.channel.get(
        "/browse", params={"workspace_id": ws}, headers=org.auth(guest)
    )
    assert_problem(guest_browse, 403)
    stranger = new_user()
    for path in ("/", "/browse"):
        response = await org.channel.get(
            path, params={"workspace_id": ws}, headers=org.auth(stranger)
        )
        assert_problem(response, 404)
        assert_problem(await org.channel.get(path, headers=org.auth(ann)), 422)
    response = await org.channel.get(
        "/", params={"workspace_id": ws, "cursor": "nonsense"}, headers=org.auth(ann)
    )
    assert_problem(response, 400, "bad-cursor")


async def test_channel_admins_change_channels(org: Org) -> None:
    ws, owner, (ann, bob, admin) = await team(org, "member", "member", "admin")
    channel = await org.create_channel(ws, ann, name="plans", members=[bob])
    path = f"/{channel['id']}"
    change = {
        "topic": "Q3",
        "purpose": "planning",
        "announcement_only": True,
        "disappearing_seconds": 3600,
    }
    response = await org.channel.patch(path, json=change, headers=org.auth(ann))
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in change} == change
    updated = await org.wait_for("channel.updated", channel_id=channel["id"])
    assert updated.data["changed"] == sorted(change)
    assert_problem(await org.channel.patch(path, json={"topic": "x"}, headers=org.auth(bob)), 403)
    # Workspace admins manage every channel.
    response = await org.channel.patch(
        path, json={"disappearing_seconds": None, "name": "plans-2"}, headers=org.auth(admin)
    )
    assert response.json()["disappearing_seconds"] is None and response.json()["name"] == "plans-2"
    response = await org.channel.patch(path, json={"name": "general"}, headers=org.auth(owner))
    assert_problem(response, 409, "name-taken")
    for body in (
        {"name": None},
        {"announcement_only": None},
        {"disappearing_seconds": 0},
        {"x": 1},
    ):
        assert_problem(await org.channel.patch(path, json=body, headers=org.auth(ann)), 422)
    outsider = new_user()
    response = await org.channel.patch(path, json={"topic": "x"}, headers=org.auth(outsider))
    assert_problem(response, 404)


async def test_direct_and_group_members_change_their_conversation(org: Org) -> None:
    ws, _, (ann, bob) = await team(org, "member", "member")
    direct = await org.create_channel(ws, ann, kind="direct", members=[bob])
    path = f"/{direct['id']}"
    response = await org.channel.patch(
        path, json={"disappearing_seconds": 5, "topic": "us"}, headers=org.auth(bob)
    )
    assert response.status_code == 200 and response.json()["disappearing_seconds"] == 5
    for body in ({"name": "dm"}, {"announcement_only": True}):
        assert_problem(await org.channel.patch(path, json=body, headers=org.auth(bob)), 422)
    response = await org.channel.post(path + "/archive", headers=org.auth(ann))
    assert_problem(response, 409, "not-archivable")


async def test_archive_and_unarchive(org: Org) -> None:
    ws, owner, (ann, bob) = await team(org, "member", "member")
    channel = await org.create_channel(ws, ann)
    path = f"/{channel['id']}"
    assert_problem(await org.channel.post(path + "/archive", headers=org.auth(bob)), 403)
    archived = await org.channel.post(path + "/archive", headers=org.auth(ann))
    assert archived.status_code == 200 and archived.json()["archived_at"] is not None
    again = await org.channel.post(path + "/archive", headers=org.auth(ann))
    assert again.json()["archived_at"] == archived.json()["archived_at"]
    assert len(org.events("channel.archived")) >= 1
    assert [e for e in org.events("channel.archived") if e.data["channel_id"] == channel["id"]]
    assert_problem(
        await org.channel.post(path + "/join", headers=org.auth(bob)), 409, "channel-archived"
    )
    assert_problem(await org.channel.patch(path, json={"topic": "x"}, headers=org.auth(ann)), 409)
    restored = await org.channel.post(path + "/unarchive", headers=org.auth(ann))
    assert restored.json()["archived_at"] is None
    await org.wait_for("channel.unarchived", channel_id=channel["id"])
    general = (await org.channels(ws, owner))["general"]
    response = await org.channel.post(f"/{general['id']}/archive", headers=org.auth(owner))
    assert_problem(response, 409, "default-channel")
