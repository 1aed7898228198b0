"""Saved messages: only ones you can see, a note of your own, newest first, gone with them."""

from __future__ import annotations

import asyncio

from tests.worlds.chat import Chat
from tests.worlds.problems import assert_problem
from tests.worlds.waiting import eventually


async def test_save_change_the_note_list_and_unsave(chat: Chat) -> None:
    bob = await chat.member()
    first = await chat.post(chat.owner, "first")
    second = await chat.post(chat.owner, "second")
    me = chat.auth(bob)

    saved = await chat.client.put(
        f"/messages/{first['id']}", json={"note": " read later "}, headers=me
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["note"] == "read later"
    assert saved.json()["channel_id"] == chat.general
    assert saved.json()["workspace_id"] == chat.workspace_id
    event = await chat.observers["bookmark"].wait_for("bookmark.saved", message_id=first["id"])
    assert event.data["audience"] == {"users": [bob]}  # the channel does not learn of it

    assert (await chat.client.put(f"/messages/{second['id']}", headers=me)).status_code == 201
    again = await chat.client.put(f"/messages/{first['id']}", headers=me)
    assert again.status_code == 200 and again.json()["note"] == "read later"
    cleared = await chat.client.put(f"/messages/{first['id']}", json={"note": ""}, headers=me)
    assert cleared.status_code == 200 and cleared.json()["note"] is None

    page = await chat.client.get("/", params={"limit": 1}, headers=me)
    assert [s["message_id"] for s in page.json()["items"]] == [second["id"]]
    rest = await chat.client.get(
        "/", params={"limit": 1, "cursor": page.json()["next_cursor"]}, headers=me
    )
    assert [s["message_id"] for s in rest.json()["items"]] == [first["id"]]
    assert rest.json()["next_cursor"] is None
    other = await chat.client.get("/", params={"workspace_id": "elsewhere"}, headers=me)
    assert other.json()["items"] == []
    assert (await chat.client.get("/", headers=chat.auth(chat.owner))).json()["items"] == []

    assert (await chat.client.delete(f"/messages/{first['id']}", headers=me)).status_code == 204
    assert_problem(await chat.client.delete(f"/messages/{first['id']}", headers=me), 404)
    await chat.observers["bookmark"].wait_for("bookmark.unsaved", message_id=first["id"])
    left = (await chat.client.get("/", headers=me)).json()["items"]
    assert [s["message_id"] for s in left] == [second["id"]]


async def test_only_messages_you_can_see(chat: Chat) -> None:
    bob = await chat.member()
    secret_channel = await chat.channel("secret", chat.owner, kind="private")
    secret = await chat.post(chat.owner, "not for bob", channel_id=secret_channel)
    assert_problem(await chat.client.put(f"/messages/{secret['id']}", headers=chat.auth(bob)), 404)
    assert_problem(await chat.client.put("/messages/nosuchmessage", headers=chat.auth(bob)), 404)
    gone = await chat.post(chat.owner, "soon gone")
    deleted = await chat.mesh.client("message").delete(
        f"/{gone['id']}", headers=chat.auth(chat.owner)
    )
    assert deleted.status_code == 204
    assert_problem(await chat.client.put(f"/messages/{gone['id']}", headers=chat.auth(bob)), 404)
    assert (await chat.client.get("/", headers=chat.auth(bob))).json()["items"] == []


async def test_concurrent_saves_of_one_message_save_it_once(chat: Chat) -> None:
    bob = await chat.member()
    message = await chat.post(chat.owner, "popular")
    answers = await asyncio.gather(
        *(chat.client.put(f"/messages/{message['id']}", headers=chat.auth(bob)) for _ in range(5))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201], [
        a.text for a in answers
    ]
    assert len({a.json()["saved_at"] for a in answers}) == 1
    saved = [e for e in chat.observers["bookmark"].drain() if e.type == "bookmark.saved"]
    assert len(saved) == 1


async def test_a_deleted_message_leaves_the_saved_lists(chat: Chat) -> None:
    bob = await chat.member()
    message = await chat.post(chat.owner, "will be deleted")
    kept = await chat.post(chat.owner, "stays")
    for saved in (message, kept):
        await chat.client.put(f"/messages/{saved['id']}", headers=chat.auth(bob))
    deleted = await chat.mesh.client("message").delete(
        f"/{message['id']}", headers=chat.auth(chat.owner)
    )
    assert deleted.status_code == 204

    async def listed() -> list[str]:
        items = (await chat.client.get("/", headers=chat.auth(bob))).json()["items"]
        return [s["message_id"] for s in items]

    assert await eventually(listed, until=[kept["id"]]) == [kept["id"]]


async def test_bad_input_is_a_problem_not_an_error(chat: Chat) -> None:
    message = await chat.post(chat.owner, "x")
    me = chat.auth(chat.owner)
    path = f"/messages/{message['id']}"
    assert_problem(await chat.client.put(path), 401)
    assert_problem(await chat.client.get("/"), 401)
    for body in ({"note": "n" * 1001}, {"note": 5}, {"other": 1}, [1]):
        assert_problem(await chat.client.put(path, json=body, headers=me), 422)
    assert_problem(await chat.client.put("/messages/a%20b", headers=me), 422)
    assert_problem(await chat.client.put("/messages/" + "m" * 65, headers=me), 422)
    assert_problem(await chat.client.get("/", params={"cursor": "!!"}, headers=me), 400)
    assert_problem(await chat.client.get("/", params={"limit": 0}, headers=me), 422)
    assert_problem(await chat.client.get("/", params={"workspace_id": "a b"}, headers=me), 422)
