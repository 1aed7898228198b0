"""The thread API: threads I follow with unread, one thread, follow, unfollow, read."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from quckchat.core.sql import utcnow
from quckchat.thread.models import Follower, Thread
from tests.worlds.chat import Chat
from tests.worlds.identity import new_user
from tests.worlds.problems import assert_problem


async def thread_with_reply(chat: Chat, replier: str, text: str = "q") -> dict[str, Any]:
    parent = await chat.post(chat.owner, text)
    reply = await chat.post(replier, "a", parent_id=parent["id"])
    await chat.observers["thread"].wait_for("thread.updated", last_reply_id=reply["id"])
    return parent


async def test_threads_i_follow_newest_activity_first_with_unread(chat: Chat) -> None:
    bob = await chat.member()
    older = await thread_with_reply(chat, bob, "older")
    newer = await thread_with_reply(chat, bob, "newer")
    again = await chat.post(bob, "more", parent_id=older["id"])
    await chat.observers["thread"].wait_for("thread.updated", last_reply_id=again["id"])

    params = {"workspace_id": chat.workspace_id, "limit": 1}
    first = await chat.client.get("/", params=params, headers=chat.auth(chat.owner))
    assert first.status_code == 200, first.text
    page = first.json()
    assert [t["parent_id"] for t in page["items"]] == [older["id"]]
    assert page["items"][0]["reply_count"] == 2 and page["items"][0]["unread"] == 2
    assert page["items"][0]["following"] is True
    second = await chat.client.get(
        "/", params={**params, "cursor": page["next_cursor"]}, headers=chat.auth(chat.owner)
    )
    assert [t["parent_id"] for t in second.json()["items"]] == [newer["id"]]
    assert second.json()["next_cursor"] is None

    # Bob replied last in both: nothing unread for him.
    mine = await chat.client.get(
        "/", params={"workspace_id": chat.workspace_id}, headers=chat.auth(bob)
    )
    assert [t["unread"] for t in mine.json()["items"]] == [0, 0]
    elsewhere = await chat.client.get(
        "/", params={"workspace_id": "another"}, headers=chat.auth(chat.owner)
    )
    assert elsewhere.json() == {"items": [], "next_cursor": None}


async def test_reading_moves_forward_only_and_tells_the_readers_devices(chat: Chat) -> None:
    bob = await chat.member()
    parent = await thread_with_reply(chat, bob)
    path = f"/{parent['id']}"
    thread = (await chat.client.get(path, headers=chat.auth(chat.owner))).json()
    assert thread["unread"] == 1

    read = await chat.client.post(
        path + "/read", json={"seq": 10**9}, headers=chat.auth(chat.owner)
    )
    assert read.status_code == 200, read.text
    assert read.json()["unread"] == 0
    assert read.json()["last_read_seq"] == thread["last_seq"]  # never past the last reply
    event = await chat.observers["thread"].wait_for("thread.read", parent_id=parent["id"])
    assert event.data["user_id"] == chat.owner and event.data["seq"] == thread["last_seq"]

    back = await chat.client.post(path + "/read", json={"seq": 0}, headers=chat.auth(chat.owner))
    assert back.json()["last_read_seq"] == thread["last_seq"]
    assert [e.type for e in chat.observers["thread"].drain()] == []


async def test_follow_a_message_before_its_first_reply_and_unfollow(chat: Chat) -> None:
    bob = await chat.member()
    parent = await chat.post(chat.owner, "new idea")
    path = f"/{parent['id']}"
    followed = await chat.client.put(path + "/follow", headers=chat.auth(bob))
    assert followed.status_code == 200, followed.text
    body = followed.json()
    assert body["following"] is True and body["reply_count"] == 0
    assert body["last_seq"] == parent["seq"] and body["unread"] == 0
    again = await chat.client.put(path + "/follow", headers=chat.auth(bob))
    assert again.json() == body

    carol = await chat.member()
    reply = await chat.post(carol, "+1", parent_id=parent["id"])
    updated = await chat.observers["thread"].wait_for("thread.updated", last_reply_id=reply["id"])
    assert updated.data["followers"] == sorted([bob, carol, chat.owner])
    assert (await chat.client.get(path, headers=chat.auth(bob))).json()["unread"] == 1

    gone = await chat.client.delete(path + "/follow", headers=chat.auth(bob))
    assert gone.status_code == 204
    state = (await chat.client.get(path, headers=chat.auth(bob))).json()
    assert state["following"] is False
    listed = await chat.client.get(
        "/", params={"workspace_id": chat.workspace_id}, headers=chat.auth(bob)
    )
    assert listed.json()["items"] == []


async def test_outsiders_and_unknown_threads_are_not_found(chat: Chat) -> None:
    bob = await chat.member()
    secret_channel = await chat.channel("secret", chat.owner, kind="private")
    secret = await chat.post(chat.owner, "private", channel_id=secret_channel)
    reply = await chat.post(chat.owner, "more", channel_id=secret_channel, parent_id=secret["id"])
    await chat.observers["thread"].wait_for("thread.updated", last_reply_id=reply["id"])

    for method, suffix, body in (
        ("GET", "", None),
        ("PUT", "/follow", None),
        ("DELETE", "/follow", None),
        ("POST", "/read", {"seq": 1}),
    ):
        answer = await chat.client.request(
            method, f"/{secret['id']}{suffix}", json=body, headers=chat.auth(bob)
        )
        assert_problem(answer, 404)
    assert_problem(await chat.client.get("/0123abcd", headers=chat.auth(bob)), 404)
    assert_problem(await chat.client.put("/0123abcd/follow", headers=chat.auth(bob)), 404)
    # A reply has no thread of its own.
    assert_problem(
        await chat.client.put(f"/{reply['id']}/follow", headers=chat.auth(chat.owner)),
        422,
        "not-a-parent",
    )


async def test_a_thread_not_heard_of_yet_opens_as_the_message_so_far(chat: Chat) -> None:
    """What a client sees asking right after its reply, before the reply's event arrives."""
    question = await chat.post(chat.owner, "anyone?")
    opened = await chat.client.get(f"/{question['id']}", headers=chat.auth(chat.owner))
    assert opened.status_code == 200, opened.text
    shown = opened.json()
    assert (shown["reply_count"], shown["following"], shown["unread"]) == (0, False, 0)
    assert (shown["channel_id"], shown["last_seq"]) == (chat.general, question["seq"])
    db = chat.mesh.runtime("thread").db
    assert db is not None
    async with db.session() as session:
        assert await session.get(Thread, question["id"]) is None, "a read stored a thread"
    outsider = new_user()
    assert_problem(await chat.client.get(f"/{question['id']}", headers=chat.auth(outsider)), 404)
    reply = await chat.post(chat.owner, "me", parent_id=question["id"])
    answer = await chat.client.get(f"/{reply['id']}", headers=chat.auth(chat.owner))
    assert_problem(answer, 422, "not-a-parent")


async def test_bad_input_is_a_problem_not_an_error(chat: Chat) -> None:
    me = chat.auth(chat.owner)
    assert_problem(await chat.client.get("/"), 401)
    assert_problem(await chat.client.get("/", headers=me), 422)
    assert_problem(await chat.client.get("/", params={"workspace_id": "a/b"}, headers=me), 422)
    params = {"workspace_id": chat.workspace_id}
    assert_problem(
        await chat.client.get("/", params={**params, "cursor": "garbage"}, headers=me),
        400,
        "bad-cursor",
    )
    assert_problem(
        await chat.client.get("/", params={**params, "cursor": "WzEsMl0"}, headers=me),
        400,
        "bad-cursor",
    )
    assert_problem(await chat.client.get("/" + "x" * 65, headers=me), 422)
    parent = await chat.post(chat.owner, "p")
    await chat.client.put(f"/{parent['id']}/follow", headers=me)
    for body in ({"seq": -1}, {"seq": "x"}, {}, {"seq": 1, "extra": True}, {"seq": 2**63}):
        assert_problem(await chat.client.post(f"/{parent['id']}/read", json=body, headers=me), 422)
    health = await chat.client.get("/health")
    assert health.status_code == 200


async def test_a_mute_with_an_end_rides_on_the_thread_update_until_it_ends(chat: Chat) -> None:
    bob, carol = await chat.member(), await chat.member()
    parent = await thread_with_reply(chat, bob)
    path = f"/{parent['id']}/mute"
    until = (utcnow() + timedelta(hours=1)).isoformat()
    muted = await chat.client.put(path, json={"until": until}, headers=chat.auth(bob))
    assert muted.status_code == 200, muted.text
    assert muted.json()["muted"] is True
    assert datetime.fromisoformat(muted.json()["muted_until"]) == datetime.fromisoformat(until)
    forever = await chat.client.put(path, json={}, headers=chat.auth(chat.owner))
    assert forever.json()["muted"] is True and forever.json()["muted_until"] is None

    reply = await chat.post(carol, "again", parent_id=parent["id"])
    event = await chat.observers["thread"].wait_for("thread.updated", last_reply_id=reply["id"])
    assert set(event.data["followers"]) == {chat.owner, bob, carol}
    mutes = event.data["muted"]
    assert set(mutes) == {chat.owner, bob} and mutes[chat.owner] is None
    assert datetime.fromisoformat(mutes[bob]) == datetime.fromisoformat(until)

    gone = await chat.client.delete(path, headers=chat.auth(bob))
    assert gone.status_code == 204, gone.text
    again = await chat.client.delete(path, headers=chat.auth(bob))
    assert again.status_code == 204
    view = await chat.client.get(f"/{parent['id']}", headers=chat.auth(bob))
    assert view.json()["muted"] is False and view.json()["muted_until"] is None
    last = await chat.post(carol, "once more", parent_id=parent["id"])
    event = await chat.observers["thread"].wait_for("thread.updated", last_reply_id=last["id"])
    assert set(event.data["muted"]) == {chat.owner}


async def test_a_mute_ended_already_mutes_nothing_and_bad_mutes_are_problems(chat: Chat) -> None:
    bob = await chat.member()
    parent = await thread_with_reply(chat, bob)
    path = f"/{parent['id']}/mute"
    for body in (
        {"until": (utcnow() - timedelta(minutes=1)).isoformat()},
        {"until": "2030-01-01T00:00:00"},
        {"until": "soon"},
        {"for": 5},
    ):
        assert_problem(await chat.client.put(path, json=body, headers=chat.auth(bob)), 422)
    outsider = new_user()
    response = await chat.client.put(path, json={}, headers=chat.auth(outsider))
    assert_problem(response, 404)
    response = await chat.client.delete(path, headers=chat.auth(outsider))
    assert_problem(response, 404)
    # A mute that has run out reads as none.
    db = chat.mesh.runtime("thread").db
    assert db is not None
    async with db.session() as session:
        row = await session.get(Follower, (parent["id"], bob))
        assert row is not None
        row.muted, row.muted_until = True, utcnow() - timedelta(seconds=1)
    view = await chat.client.get(f"/{parent['id']}", headers=chat.auth(bob))
    assert view.json()["muted"] is False
