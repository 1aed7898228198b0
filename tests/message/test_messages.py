"""Sending, reading and changing messages, as members and as outsiders."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from quckchat.core import outbox
from quckchat.core.events import Audience, Event
from quckchat.core.runtime import Runtime
from quckchat.message import events, logic, store, timers
from quckchat.thread.events import ThreadUpdated
from tests.message.conftest import Chat
from tests.worlds.problems import assert_problem
from tests.worlds.waiting import eventually


async def test_a_send_is_stored_published_and_idempotent(chat: Chat) -> None:
    first = await chat.send(chat.alice, f"hi <@{chat.bob}> and @channel", client_id="c-1")
    assert first["seq"] >= 1 and first["workspace_id"] == chat.workspace_id
    assert first["mentions"] == [chat.bob] and first["mention_channel"] is True
    event = await chat.event("message.created", message_id=first["id"])
    assert event.key == chat.general and event.data["message"]["text"] == first["text"]
    assert event.audience == Audience(channel_id=chat.general)
    created = events.MessageCreated.of(event)
    assert (created.actor, created.seq, created.message.mentions) == (
        chat.alice,
        first["seq"],
        [chat.bob],
    )
    assert created.message.created_at == datetime.fromisoformat(first["created_at"])
    # Times go out as they always have: `isoformat()`, with its `+00:00`.
    assert event.data["message"]["created_at"] == created.message.created_at.isoformat()
    retry = await chat.messages.post(
        "/",
        json={"channel_id": chat.general, "text": "hi again", "client_id": "c-1"},
        headers=chat.auth(chat.alice),
    )
    assert retry.status_code == 200 and retry.json()["id"] == first["id"]
    second = await chat.send(chat.alice, "next")
    assert second["seq"] == first["seq"] + 1


async def test_outsiders_see_nothing_and_cannot_post(chat: Chat) -> None:
    sent = await chat.send(chat.alice)
    eve = chat.auth(chat.eve)
    assert_problem(await chat.messages.get(f"/{sent['id']}", headers=eve), 404)
    history = await chat.messages.get("/", params={"channel_id": chat.general}, headers=eve)
    assert_problem(history, 404)
    post = await chat.messages.post(
        "/", json={"channel_id": chat.general, "text": "x"}, headers=eve
    )
    assert_problem(post, 404)
    # An id the message service takes but the channel service never mints: no such channel.
    for odd in ("a:b", "x" * 64):
        alice = chat.auth(chat.alice)
        post = await chat.messages.post("/", json={"channel_id": odd, "text": "x"}, headers=alice)
        assert_problem(post, 404)
        history = await chat.messages.get("/", params={"channel_id": odd}, headers=alice)
        assert_problem(history, 404)
    assert_problem(await chat.messages.get(f"/{sent['id']}"), 401)


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": "x" * 40_001},
        # Only a file's id is taken (its values come from the file), ten at most.
        {"text": "x", "attachments": [{"id": "f1", "name": "a.pdf"}]},
        {"text": "x", "attachments": [{"id": f"f{n}"} for n in range(11)]},
        {"text": "x", "attachments": [{"id": "bad id"}]},
        {"text": "x", "unknown": 1},
        {"text": "x", "client_id": "bad id with spaces"},
        {"text": "x", "priority": "critical"},
    ],
)
async def test_bad_sends_are_422_problems(chat: Chat, body: dict[str, Any]) -> None:
    response = await chat.messages.post(
        "/", json={"channel_id": chat.general, **body}, headers=chat.auth(chat.alice)
    )
    assert_problem(response, 422)


async def test_history_pages_before_after_and_around(chat: Chat) -> None:
    sent = [await chat.send(chat.alice, f"m{n}") for n in range(7)]
    alice = chat.auth(chat.alice)

    async def page(**params: Any) -> dict[str, Any]:
        response = await chat.messages.get(
            "/", params={"channel_id": chat.general, **params}, headers=alice
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def texts(body: dict[str, Any]) -> list[str]:
        return [m["text"] for m in body["items"] if m["text"].startswith("m")]

    newest = await page(limit=3)
    assert texts(newest) == ["m4", "m5", "m6"] and newest["has_more_before"]
    older = await page(before=newest["items"][0]["id"], limit=3)
    assert texts(older) == ["m1", "m2", "m3"]
    after = await page(after=sent[4]["id"], limit=5)
    assert texts(after) == ["m5", "m6"] and not after["has_more_after"]
    around = await page(around=sent[3]["id"], limit=4)
    assert texts(around) == ["m2", "m3", "m4", "m5"]
    assert (
        await chat.messages.get(
            "/", params={"channel_id": chat.general, "before": "x", "after": "y"}, headers=alice
        )
    ).status_code == 422


async def test_edit_keeps_history_and_only_the_sender_edits(chat: Chat) -> None:
    sent = await chat.send(chat.alice, "first")
    bob = await chat.messages.patch(
        f"/{sent['id']}", json={"text": "x"}, headers=chat.auth(chat.bob)
    )
    assert_problem(bob, 403)
    edited = await chat.messages.patch(
        f"/{sent['id']}", json={"text": "second"}, headers=chat.auth(chat.alice)
    )
    assert edited.status_code == 200 and edited.json()["edited_at"] is not None
    event = await chat.event("message.edited", message_id=sent["id"])
    assert event.data["message"]["text"] == "second"
    edited_event = events.MessageEdited.of(event)
    assert edited_event.message.edited_at is not None and edited_event.actor == chat.alice


async def test_delete_for_me_and_for_everyone(chat: Chat) -> None:
    sent = await chat.send(chat.alice, "secret")
    hide = await chat.messages.delete(
        f"/{sent['id']}", params={"for": "me"}, headers=chat.auth(chat.bob)
    )
    assert hide.status_code == 204
    hidden = await chat.event("message.hidden", message_id=sent["id"])
    assert hidden.audience == Audience(users=(chat.bob,))  # Bob's other devices, nobody else
    assert events.MessageHidden.of(hidden).user_id == chat.bob
    assert_problem(await chat.messages.get(f"/{sent['id']}", headers=chat.auth(chat.bob)), 404)
    assert (
        await chat.messages.get(f"/{sent['id']}", headers=chat.auth(chat.alice))
    ).status_code == 200
    other = await chat.send(chat.alice, "gone soon")
    refused = await chat.messages.delete(f"/{other['id']}", headers=chat.auth(chat.bob))
    assert_problem(refused, 403)
    assert (
        await chat.messages.delete(f"/{other['id']}", headers=chat.auth(chat.alice))
    ).status_code == 204
    shown = (await chat.messages.get(f"/{other['id']}", headers=chat.auth(chat.bob))).json()
    assert shown["deleted"] is True and shown["text"] == ""
    deleted = await chat.event("message.deleted", message_id=other["id"])
    assert deleted.audience == Audience(channel_id=chat.general)
    gone = events.MessageDeleted.of(deleted).message
    assert (gone.deleted, gone.text, gone.reactions) == (True, "", {})
    again = await chat.messages.delete(f"/{other['id']}", headers=chat.auth(chat.alice))
    assert again.status_code == 204


async def test_reactions_are_idempotent(chat: Chat) -> None:
    sent = await chat.send(chat.alice)
    bob = chat.auth(chat.bob)
    for _ in range(2):
        response = await chat.messages.put(f"/{sent['id']}/reactions/:thumbsup:", headers=bob)
        assert response.json()["reactions"] == {":thumbsup:": [chat.bob]}
    unicode = await chat.messages.put(f"/{sent['id']}/reactions/🎉", headers=chat.auth(chat.alice))
    assert unicode.json()["reactions"]["🎉"] == [chat.alice]
    removed = await chat.messages.delete(f"/{sent['id']}/reactions/:thumbsup:", headers=bob)
    assert ":thumbsup:" not in removed.json()["reactions"]
    added = await chat.event("message.reaction.added", message_id=sent["id"], actor=chat.bob)
    assert added.data["emoji"] == ":thumbsup:" and added.audience == Audience(
        channel_id=chat.general
    )
    taken = await chat.event("message.reaction.removed", message_id=sent["id"], actor=chat.bob)
    unreacted = events.ReactionRemoved.of(taken)
    assert (unreacted.emoji, unreacted.message.reactions) == (":thumbsup:", {"🎉": [chat.alice]})
    bad = await chat.messages.put(f"/{sent['id']}/reactions/a.b$c", headers=bob)
    assert_problem(bad, 422)


async def test_a_history_page_reads_its_reactions_at_once(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = [await chat.send(chat.alice, f"m{n}") for n in range(3)]
    await chat.messages.put(f"/{sent[0]['id']}/reactions/:one:", headers=chat.auth(chat.bob))
    await chat.messages.put(f"/{sent[0]['id']}/reactions/:one:", headers=chat.auth(chat.alice))
    await chat.messages.put(f"/{sent[2]['id']}/reactions/🎉", headers=chat.auth(chat.bob))
    reads: list[list[str]] = []
    real = store.reactions_of

    async def counted(runtime: Runtime, message_ids: list[str]) -> dict[str, dict[str, list[str]]]:
        reads.append(message_ids)
        return await real(runtime, message_ids)

    monkeypatch.setattr(store, "reactions_of", counted)
    page = await chat.messages.get(
        "/", params={"channel_id": chat.general}, headers=chat.auth(chat.alice)
    )
    shown = {m["id"]: m["reactions"] for m in page.json()["items"]}
    assert [shown[m["id"]] for m in sent] == [
        {":one:": [chat.bob, chat.alice]},  # in the order they were added
        {},
        {"🎉": [chat.bob]},
    ]
    assert len(reads) == 1 and set(reads[0]) >= {m["id"] for m in sent}


async def test_threads_quotes_and_forwards(chat: Chat) -> None:
    parent = await chat.send(chat.alice, "parent")
    reply = await chat.send(chat.bob, "reply", parent_id=parent["id"])
    assert reply["parent_id"] == parent["id"]
    replies = await chat.messages.get(
        "/", params={"parent_id": parent["id"]}, headers=chat.auth(chat.alice)
    )
    assert [m["id"] for m in replies.json()["items"]] == [reply["id"]]
    nested = await chat.messages.post(
        "/",
        json={"channel_id": chat.general, "text": "x", "parent_id": reply["id"]},
        headers=chat.auth(chat.alice),
    )
    assert_problem(nested, 422, "bad-parent")
    quoting = await chat.send(chat.alice, "as you said", quote_id=parent["id"])
    assert quoting["quote"]["id"] == parent["id"]
    random = (await chat.org.channels(chat.workspace_id, chat.alice))["random"]["id"]
    forwarded = await chat.messages.post(
        f"/{parent['id']}/forward",
        json={"channel_id": random, "text": "fyi"},
        headers=chat.auth(chat.alice),
    )
    assert forwarded.status_code == 201
    assert forwarded.json()["forwarded"]["message_id"] == parent["id"]
    assert forwarded.json()["text"] == "fyi\nparent"


async def test_parents_show_the_thread_services_counts(chat: Chat) -> None:
    """The thread service owns reply counts; the parent shows its latest `thread.updated`."""
    parent = await chat.send(chat.alice, "parent")
    reply = await chat.send(chat.bob, "reply", parent_id=parent["id"])
    alice = chat.auth(chat.alice)

    async def counts() -> tuple[int, datetime | None]:
        shown = (await chat.messages.get(f"/{parent['id']}", headers=alice)).json()
        at = shown["last_reply_at"]
        return shown["reply_count"], None if at is None else datetime.fromisoformat(at)

    assert await counts() == (0, None)  # nothing counted here until the thread service says so
    # As stored: MongoDB keeps milliseconds.
    last = datetime.fromisoformat(reply["created_at"]).replace(microsecond=0)
    bus = chat.org.runtime("message").events
    for count, at in ((1, last), (0, None)):
        updated = ThreadUpdated(
            workspace_id=chat.workspace_id,
            channel_id=chat.general,
            parent_id=parent["id"],
            reply_count=count,
            last_reply_at=at,
            last_reply_id=reply["id"] if at else None,
            last_seq=reply["seq"],
            followers=[chat.alice, chat.bob],
        )
        await bus.publish("quckchat.thread", Event.of(updated, source="thread", tenant=None))
        wanted = (count, at)
        assert await eventually(counts, until=wanted) == wanted
    malformed = Event(type=ThreadUpdated.type, source="thread", key=parent["id"], data={})
    await bus.publish("quckchat.thread", malformed)
    await chat.org.settle()
    assert await counts() == (0, None)


async def test_read_and_delivery_receipts(chat: Chat) -> None:
    sent = await chat.send(chat.alice, "read me")
    bob = chat.auth(chat.bob)
    marked = await chat.messages.post(
        "/read", json={"channel_id": chat.general, "seq": sent["seq"]}, headers=bob
    )
    assert marked.json()["seq"] == sent["seq"]
    back = await chat.messages.post(
        "/read", json={"channel_id": chat.general, "seq": 0}, headers=bob
    )
    assert back.json()["seq"] == sent["seq"]  # never moves back
    read = await chat.event("message.read", user_id=chat.bob, seq=sent["seq"])
    assert read.audience == Audience(channel_id=chat.general)
    assert events.MessagesRead.of(read).workspace_id == chat.workspace_id
    receipts = (
        await chat.messages.get(f"/{sent['id']}/receipts", headers=chat.auth(chat.alice))
    ).json()
    assert [r["user_id"] for r in receipts["read_by"]] == [chat.bob]
    assert receipts["delivered_to"] == []
    delivered = await chat.messages.post(
        "/delivered", json={"channel_id": chat.general, "seq": sent["seq"]}, headers=bob
    )
    assert delivered.json()["seq"] == sent["seq"]
    told = await chat.event("message.delivered", user_id=chat.bob, seq=sent["seq"])
    assert told.audience == Audience(channel_id=chat.general)
    assert events.MessagesDelivered.of(told).actor == chat.bob


async def test_a_messages_priority_is_kept_shown_and_announced(chat: Chat) -> None:
    plain = await chat.send(chat.alice, "fyi")
    assert plain["priority"] == "standard"
    urgent = await chat.send(chat.alice, f"<@{chat.bob}> the site is down", priority="urgent")
    assert urgent["priority"] == "urgent"
    event = await chat.event("message.created", message_id=urgent["id"])
    assert events.MessageCreated.of(event).message.priority == "urgent"
    shown = await chat.messages.get(f"/{urgent['id']}", headers=chat.auth(chat.bob))
    assert shown.json()["priority"] == "urgent"
    due = datetime.now(UTC) + timedelta(seconds=1)
    later = {"text": "later", "scheduled_at": due.isoformat(), "priority": "important"}
    response = await chat.messages.post(
        "/scheduled", json={"channel_id": chat.general, **later}, headers=chat.auth(chat.alice)
    )
    assert response.status_code == 201, response.text
    posted = await chat.event("message.created")
    assert posted.data["message"]["priority"] == "important"


async def test_a_scheduled_message_is_posted_once_on_time(chat: Chat) -> None:
    due = datetime.now(UTC) + timedelta(seconds=1)
    response = await chat.messages.post(
        "/scheduled",
        json={"channel_id": chat.general, "text": "later", "scheduled_at": due.isoformat()},
        headers=chat.auth(chat.alice),
    )
    assert response.status_code == 201, response.text
    scheduled = response.json()
    past = await chat.messages.post(
        "/scheduled",
        json={"channel_id": chat.general, "text": "x", "scheduled_at": "2000-01-01T00:00:00Z"},
        headers=chat.auth(chat.alice),
    )
    assert_problem(past, 422, "past-schedule")
    event = await chat.event("message.created")
    assert event.data["message"]["text"] == "later"
    runtime = chat.org.runtime("message")
    assert await timers.post_due(runtime) == 0  # nothing left to post: it went once

    async def still_listed() -> bool:
        listed = (await chat.messages.get("/scheduled", headers=chat.auth(chat.alice))).json()
        return scheduled["id"] in [s["id"] for s in listed]

    # The job is marked done just after its event goes out.
    async with asyncio.timeout(10):
        while await still_listed():  # noqa: ASYNC110 - the state is on the server
            await asyncio.sleep(0.05)


async def test_a_disappearing_message_is_removed_and_announced(chat: Chat) -> None:
    timer = await chat.org.channel.patch(
        f"/{chat.general}", json={"disappearing_seconds": 1}, headers=chat.auth(chat.alice)
    )
    assert timer.status_code == 200, timer.text
    await asyncio.sleep(0.1)  # the channel event drops the message service's cached rules
    from quckchat.channel.client import forget_channel

    forget_channel(chat.org.runtime("message"), chat.general)
    sent = await chat.send(chat.alice, "vanishing")
    assert sent["expires_at"] is not None
    expired = await chat.event("message.expired", message_id=sent["id"])
    assert expired.data["channel_id"] == chat.general
    assert expired.audience == Audience(channel_id=chat.general)
    assert events.MessageExpired.of(expired).seq == sent["seq"]
    assert_problem(await chat.messages.get(f"/{sent['id']}", headers=chat.auth(chat.alice)), 404)


async def test_the_expiry_list_is_what_the_timer_reads(chat: Chat) -> None:
    """Disappearing messages are found through `expiring`: one listed but never stored is
    dropped after a grace, and ones stored before the list existed are listed at startup."""
    runtime = chat.org.runtime("message")
    database = runtime.document_db
    past = datetime.now(UTC) - timedelta(seconds=1)
    await store.will_expire(runtime, "never-stored", past)
    await timers.expire_due(runtime)
    assert await database[store.EXPIRING].find_one({"_id": "never-stored"}) is not None
    await database[store.EXPIRING].update_one(
        {"_id": "never-stored"}, {"$set": {"at": past - timers.UNSTORED_GRACE}}
    )
    await timers.expire_due(runtime)
    assert await database[store.EXPIRING].find_one({"_id": "never-stored"}) is None

    older = await chat.send(chat.alice, "from before the list")
    await database[store.MESSAGES].update_one({"_id": older["id"]}, {"$set": {"expires_at": past}})
    await database[store.EXPIRING].delete_many({})
    await store.list_expiring(runtime)  # listed once already: the scan is not run again
    assert await database[store.EXPIRING].find_one({"_id": older["id"]}) is None
    await database[store.CLAIMS].delete_one({"_id": store.EXPIRING_LISTED})
    await store.list_expiring(runtime)  # a database from before the list
    assert await database[store.EXPIRING].find_one({"_id": older["id"]}) is not None
    await timers.expire_due(runtime)  # or the replica's own timer did already
    expired = await chat.event("message.expired", message_id=older["id"])
    assert expired.data["channel_id"] == chat.general
    assert await database[store.EXPIRING].find_one({"_id": older["id"]}) is None


async def test_a_send_survives_a_broker_outage(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = chat.org.runtime("message")
    real = runtime.events.publish

    async def broken(topic: str, event: Event) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(runtime.events, "publish", broken)
    sent = await chat.send(chat.alice, "kept")
    monkeypatch.setattr(runtime.events, "publish", real)
    monkeypatch.setattr(outbox, "GRACE", timedelta(0))
    assert await logic.OUTBOX.relay(runtime) == 1
    event = await chat.event("message.created", message_id=sent["id"])
    assert event.id == f"{sent['id']}.created"
    assert await logic.OUTBOX.relay(runtime) == 0
