"""Channel bookmarks: members add links; their author or a channel admin changes them."""

from __future__ import annotations

import pytest

from quckchat.bookmark import logic
from tests.worlds.chat import Chat
from tests.worlds.problems import assert_problem
from tests.worlds.waiting import eventually

LINK = {"title": "Runbook", "url": "https://example.com/runbook", "emoji": ":book:"}


async def test_members_add_and_everyone_in_the_channel_sees(chat: Chat) -> None:
    bob = await chat.member()
    path = f"/channels/{chat.general}"
    added = await chat.client.post(path, json=LINK, headers=chat.auth(bob))
    assert added.status_code == 201, added.text
    bookmark = added.json()
    assert bookmark["created_by"] == bob and bookmark["workspace_id"] == chat.workspace_id
    assert bookmark["url"] == LINK["url"]
    event = await chat.observers["bookmark"].wait_for(
        "bookmark.channel.added", bookmark_id=bookmark["id"]
    )
    assert event.data["channel_id"] == chat.general and event.key == chat.general
    assert event.data["bookmark"]["title"] == "Runbook"

    second = {"title": "Dashboard", "url": "http://example.com/d"}
    await chat.client.post(path, json=second, headers=chat.auth(chat.owner))
    listed = await chat.client.get(path, headers=chat.auth(chat.owner))
    assert [b["title"] for b in listed.json()] == ["Runbook", "Dashboard"]

    outsider = "outsider"
    assert_problem(await chat.client.get(path, headers=chat.auth(outsider)), 404)
    assert_problem(await chat.client.post(path, json=LINK, headers=chat.auth(outsider)), 404)


async def test_the_author_or_a_channel_admin_changes_a_link(chat: Chat) -> None:
    bob, carol = await chat.member(), await chat.member()
    path = f"/channels/{chat.general}"
    mine = (await chat.client.post(path, json=LINK, headers=chat.auth(bob))).json()
    one = f"{path}/{mine['id']}"

    assert_problem(
        await chat.client.patch(one, json={"title": "Mine"}, headers=chat.auth(carol)), 403
    )
    assert_problem(await chat.client.delete(one, headers=chat.auth(carol)), 403)
    renamed = await chat.client.patch(
        one, json={"title": "Runbook v2", "emoji": None}, headers=chat.auth(bob)
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["title"] == "Runbook v2" and renamed.json()["emoji"] is None
    await chat.observers["bookmark"].wait_for("bookmark.channel.updated", bookmark_id=mine["id"])
    unchanged = await chat.client.patch(one, json={}, headers=chat.auth(bob))
    assert unchanged.json()["title"] == "Runbook v2"
    # The owner created #general, so is its channel admin.
    moved = await chat.client.patch(
        one, json={"url": "https://example.com/new"}, headers=chat.auth(chat.owner)
    )
    assert moved.json()["url"] == "https://example.com/new"
    assert (await chat.client.delete(one, headers=chat.auth(chat.owner))).status_code == 204
    await chat.observers["bookmark"].wait_for("bookmark.channel.removed", bookmark_id=mine["id"])
    assert_problem(await chat.client.delete(one, headers=chat.auth(bob)), 404)


async def test_workspace_admins_manage_every_channels_links(chat: Chat) -> None:
    bob, admin = await chat.member(), await chat.member(role="admin")
    path = f"/channels/{chat.general}"
    mine = (await chat.client.post(path, json=LINK, headers=chat.auth(bob))).json()
    removed = await chat.client.delete(f"{path}/{mine['id']}", headers=chat.auth(admin))
    assert removed.status_code == 204


async def test_a_link_is_reached_through_its_own_channel_only(chat: Chat) -> None:
    other = await chat.channel("other", chat.owner)
    bookmark = (
        await chat.client.post(f"/channels/{other}", json=LINK, headers=chat.auth(chat.owner))
    ).json()
    wrong = f"/channels/{chat.general}/{bookmark['id']}"
    assert_problem(await chat.client.delete(wrong, headers=chat.auth(chat.owner)), 404)
    assert_problem(
        await chat.client.patch(wrong, json={"title": "x"}, headers=chat.auth(chat.owner)), 404
    )


async def test_full_and_archived_channels_take_no_more_links(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logic, "MAX_CHANNEL_BOOKMARKS", 2)
    path = f"/channels/{chat.general}"
    me = chat.auth(chat.owner)
    for _ in range(2):
        assert (await chat.client.post(path, json=LINK, headers=me)).status_code == 201
    full = await chat.client.post(path, json=LINK, headers=me)
    assert_problem(full, 409, "quota-exceeded")
    assert full.json()["quota"] == "channel_bookmarks"

    archivable = await chat.channel("old", chat.owner)
    added = await chat.client.post(f"/channels/{archivable}", json=LINK, headers=me)
    archived = await chat.mesh.client("channel").post(f"/{archivable}/archive", headers=me)
    assert archived.status_code == 200, archived.text
    one = f"/channels/{archivable}/{added.json()['id']}"
    # Cached memberships are dropped when the channel.archived event arrives.

    async def refused() -> str:
        answer = await chat.client.post(f"/channels/{archivable}", json=LINK, headers=me)
        return str(answer.json().get("type", "")).rsplit("/", 1)[-1]

    assert await eventually(refused, until="channel-archived") == "channel-archived"
    assert_problem(await chat.client.patch(one, json={"title": "t"}, headers=me), 409)
    assert (await chat.client.delete(one, headers=me)).status_code == 204


async def test_bad_links_are_problems_not_errors(chat: Chat) -> None:
    path = f"/channels/{chat.general}"
    me = chat.auth(chat.owner)
    for body in (
        {},
        {"title": "", "url": "https://example.com"},
        {"title": "t" * 201, "url": "https://example.com"},
        {"title": "x", "url": "javascript:alert(1)"},
        {"title": "x", "url": "ftp://example.com/file"},
        {"title": "x", "url": "https://example.com/" + "a" * 2100},
        {"title": "x", "url": "https://example.com", "emoji": "a.b"},
        {"title": "x", "url": "https://example.com", "extra": 1},
    ):
        assert_problem(await chat.client.post(path, json=body, headers=me), 422)
    added = (await chat.client.post(path, json=LINK, headers=me)).json()
    for body in ({"title": None}, {"url": None}, {"url": "nope"}):
        assert_problem(await chat.client.patch(f"{path}/{added['id']}", json=body, headers=me), 422)
    assert_problem(await chat.client.get("/channels/a%20b", headers=me), 422)
    assert_problem(await chat.client.get(f"/channels/{chat.general}"), 401)
