"""Two message replicas at once: whatever must happen once happens once, on either store."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from quckchat.core.events import Event
from quckchat.message import store, timers
from tests.message.conftest import Chat, Pair


def drain(chat: Chat, type_: str) -> list[Event]:
    """The events of the type published so far (the queue is emptied of all)."""
    found = []
    while not chat.queue.empty():
        event = chat.queue.get_nowait()
        if event.type == type_:
            found.append(event)
    return found


async def collect(chat: Chat, type_: str, ids: set[str]) -> Counter[str]:
    """How often each message of `ids` got an event of the type, once every one got one."""
    seen: Counter[str] = Counter()
    async with asyncio.timeout(15):
        while not ids <= set(seen):
            event = await chat.queue.get()
            if event.type == type_ and event.data.get("message_id") in ids:
                seen[event.data["message_id"]] += 1
    for event in drain(chat, type_):
        if event.data.get("message_id") in ids:
            seen[event.data["message_id"]] += 1
    return seen


async def send_through(pair: Pair, n: int, text: str, **body: Any) -> dict[str, Any]:
    """The n-th send goes to replica n % 2, from Alice or Bob in turn."""
    client, _ = pair.replicas[n % 2]
    user = (pair.chat.alice, pair.chat.bob)[n // 2 % 2]
    response = await client.post(
        "/",
        json={"channel_id": pair.chat.general, "text": text, **body},
        headers=pair.chat.auth(user),
    )
    assert response.status_code == 201, response.text
    sent: dict[str, Any] = response.json()
    return sent


async def test_concurrent_sends_get_gapless_seqs_and_publish_once(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = await asyncio.gather(*(send_through(pair, n, f"c{n}") for n in range(40)))
    assert sorted(m["seq"] for m in sent) == list(range(1, 41))
    alice = pair.chat.auth(pair.chat.alice)
    history = await pair.chat.messages.get(
        "/", params={"channel_id": pair.chat.general, "limit": 50}, headers=alice
    )
    listed = history.json()["items"]
    assert [m["seq"] for m in listed] == list(range(1, 41))
    assert {m["id"] for m in listed} == {m["id"] for m in sent}
    monkeypatch.setattr(timers, "OUTBOX_GRACE", timedelta(0))
    outbox = await asyncio.gather(*(timers.republish(r) for _, r in pair.replicas))
    assert outbox == [0, 0]
    seen = await collect(pair.chat, "message.created", {m["id"] for m in sent})
    assert set(seen.values()) == {1}


async def test_the_outbox_of_two_replicas_publishes_each_message_once(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(topic: str, event: Event) -> None:
        raise ConnectionError("broker down")

    for _, runtime in pair.replicas:
        monkeypatch.setattr(runtime.events, "publish", broken)
    sent = await asyncio.gather(*(send_through(pair, n, f"o{n}") for n in range(10)))
    monkeypatch.undo()
    monkeypatch.setattr(timers, "OUTBOX_GRACE", timedelta(0))
    await asyncio.gather(*(timers.republish(r) for _, r in pair.replicas for _ in range(2)))
    seen = await collect(pair.chat, "message.created", {m["id"] for m in sent})
    assert set(seen.values()) == {1}
    runtime = pair.chat.org.runtime("message")
    waiting = await store.db(runtime)[store.MESSAGES].count_documents({"published": False})
    assert waiting == 0


async def test_concurrent_deletes_for_everyone_announce_once(pair: Pair) -> None:
    message = await send_through(pair, 0, "delete me")
    alice = pair.chat.auth(pair.chat.alice)
    deletes = await asyncio.gather(
        *(client.delete(f"/{message['id']}", headers=alice) for client, _ in pair.replicas * 4)
    )
    assert [r.status_code for r in deletes] == [204] * 8
    shown = await pair.chat.messages.get(f"/{message['id']}", headers=alice)
    assert shown.json()["deleted"] is True and shown.json()["text"] == ""
    seen = await collect(pair.chat, "message.deleted", {message["id"]})
    assert seen[message["id"]] == 1


async def test_concurrent_replies_and_deletes_keep_the_reply_count(pair: Pair) -> None:
    parent = await send_through(pair, 0, "parent")
    replies = await asyncio.gather(
        *(send_through(pair, n, f"r{n}", parent_id=parent["id"]) for n in range(10))
    )
    alice = pair.chat.auth(pair.chat.alice)
    shown = (await pair.chat.messages.get(f"/{parent['id']}", headers=alice)).json()
    assert shown["reply_count"] == 10
    assert shown["last_reply_at"] is not None
    gone = [r for r in replies if r["sender_id"] == pair.chat.alice][:3]
    await asyncio.gather(
        *(pair.replicas[n % 2][0].delete(f"/{r['id']}", headers=alice) for n, r in enumerate(gone))
    )
    shown = (await pair.chat.messages.get(f"/{parent['id']}", headers=alice)).json()
    assert shown["reply_count"] == 10 - len(gone)


async def test_concurrent_scheduled_sweeps_post_once(pair: Pair) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    response = await pair.chat.messages.post(
        "/scheduled",
        json={"channel_id": pair.chat.general, "text": "once", "scheduled_at": later.isoformat()},
        headers=pair.chat.auth(pair.chat.alice),
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["id"]
    runtime = pair.chat.org.runtime("message")
    scheduled = store.db(runtime)[store.SCHEDULED]
    await scheduled.update_one({"_id": job_id}, {"$set": {"due_at": datetime.now(UTC)}})
    posted = await asyncio.gather(*(timers.post_due(r) for _, r in pair.replicas * 3))
    assert sum(posted) <= 1  # the replicas' own timers may have taken it first
    for _ in range(300):  # the post may still be finishing on a replica's own timer
        job = await scheduled.find_one({"_id": job_id})
        if job["status"] == "sent":
            break
        await asyncio.sleep(0.05)
    assert job["status"] == "sent", job
    seen = await collect(pair.chat, "message.created", {job["message_id"]})
    assert seen[job["message_id"]] == 1
    texts = await store.db(runtime)[store.MESSAGES].count_documents({"text": "once"})
    assert texts == 1


async def test_a_claimed_schedule_cannot_be_cancelled(pair: Pair) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    alice = pair.chat.auth(pair.chat.alice)
    response = await pair.chat.messages.post(
        "/scheduled",
        json={"channel_id": pair.chat.general, "text": "x", "scheduled_at": later.isoformat()},
        headers=alice,
    )
    job_id = response.json()["id"]
    cancels = await asyncio.gather(
        *(client.delete(f"/scheduled/{job_id}", headers=alice) for client, _ in pair.replicas * 2)
    )
    assert sorted(r.status_code for r in cancels) == [204, 404, 404, 404]


async def test_concurrent_expiry_sweeps_announce_once(pair: Pair) -> None:
    message = await send_through(pair, 0, "short-lived")
    runtime = pair.chat.org.runtime("message")
    messages = store.db(runtime)[store.MESSAGES]
    await messages.update_one(
        {"_id": message["id"]}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    expired = await asyncio.gather(*(timers.expire_due(r) for _, r in pair.replicas * 3))
    assert sum(expired) <= 1  # the replicas' own timers may have taken it first
    seen = await collect(pair.chat, "message.expired", {message["id"]})
    assert seen[message["id"]] == 1
    alice = pair.chat.auth(pair.chat.alice)
    assert (await pair.chat.messages.get(f"/{message['id']}", headers=alice)).status_code == 404
    after = await send_through(pair, 1, "next")
    assert after["seq"] == message["seq"] + 1  # the expired message keeps its seq
