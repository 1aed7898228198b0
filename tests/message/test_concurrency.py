"""Two message replicas at once: whatever must happen once happens once, on either store."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from quckchat.core import outbox
from quckchat.core.events import Event
from quckchat.message import logic, receipts, store, timers
from tests.message.conftest import Chat, Pair
from tests.worlds import bus
from tests.worlds.waiting import eventually


def drain(chat: Chat, type_: str) -> list[Event]:
    """The events of the type published so far (the queue is emptied of all)."""
    return [event for event in bus.drain(chat.queue) if event.type == type_]


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
    monkeypatch.setattr(outbox, "GRACE", timedelta(0))
    relayed = await asyncio.gather(*(logic.OUTBOX.relay(r) for _, r in pair.replicas))
    assert relayed == [0, 0]
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
    monkeypatch.setattr(outbox, "GRACE", timedelta(0))
    await asyncio.gather(*(logic.OUTBOX.relay(r) for _, r in pair.replicas for _ in range(2)))
    seen = await collect(pair.chat, "message.created", {m["id"] for m in sent})
    assert set(seen.values()) == {1}
    messages = pair.chat.org.runtime("message").document_db[store.MESSAGES]
    # A replica's own relay, nudged while the broker was away, may be marking the last one.
    waiting = await eventually(
        lambda: messages.count_documents({"published": False}), until=0, within=10
    )
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
    scheduled = runtime.document_db[store.SCHEDULED]
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
    texts = await runtime.document_db[store.MESSAGES].count_documents({"text": "once"})
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
    messages = runtime.document_db[store.MESSAGES]
    past = datetime.now(UTC) - timedelta(seconds=1)
    await messages.update_one({"_id": message["id"]}, {"$set": {"expires_at": past}})
    await store.will_expire(runtime, message["id"], past)
    expired = await asyncio.gather(*(timers.expire_due(r) for _, r in pair.replicas * 3))
    assert sum(expired) <= 1  # the replicas' own timers may have taken it first
    seen = await collect(pair.chat, "message.expired", {message["id"]})
    assert seen[message["id"]] == 1
    alice = pair.chat.auth(pair.chat.alice)
    assert (await pair.chat.messages.get(f"/{message['id']}", headers=alice)).status_code == 404
    after = await send_through(pair, 1, "next")
    assert after["seq"] == message["seq"] + 1  # the expired message keeps its seq


def reactions_announced(chat: Chat, message_id: str) -> dict[str, Counter[str]]:
    """Per reaction event type (`added`, `removed`), how often each user was announced."""
    found: dict[str, Counter[str]] = {"added": Counter(), "removed": Counter()}
    for event in bus.drain(chat.queue):
        if event.type.startswith("message.reaction.") and event.data["message_id"] == message_id:
            found[event.type.rsplit(".", 1)[1]][event.data["actor"]] += 1
    return found


async def test_concurrent_reactions_are_announced_once_per_change(pair: Pair) -> None:
    message = await send_through(pair, 0, "react to me")
    path = f"/{message['id']}/reactions/:tada:"
    users = (pair.chat.alice, pair.chat.bob)
    alice = pair.chat.auth(pair.chat.alice)

    async def react(n: int, method: str) -> dict[str, Any]:
        """The n-th call goes to replica n % 2, from Alice or Bob in turn."""
        client, _ = pair.replicas[n % 2]
        response = await client.request(method, path, headers=pair.chat.auth(users[n // 2 % 2]))
        assert response.status_code == 200, response.text
        shown: dict[str, Any] = response.json()
        return shown

    async def reactions() -> dict[str, list[str]]:
        shown = await pair.chat.messages.get(f"/{message['id']}", headers=alice)
        found: dict[str, list[str]] = shown.json()["reactions"]
        return found

    bus.drain(pair.chat.queue)
    added = await asyncio.gather(*(react(n, "PUT") for n in range(20)))
    for n, shown in enumerate(added):
        assert users[n // 2 % 2] in shown["reactions"][":tada:"]
    once = {pair.chat.alice: 1, pair.chat.bob: 1}
    assert reactions_announced(pair.chat, message["id"]) == {"added": once, "removed": {}}
    assert sorted((await reactions())[":tada:"]) == sorted(users)

    await asyncio.gather(*(react(n, "DELETE") for n in range(20)))
    assert reactions_announced(pair.chat, message["id"]) == {"added": {}, "removed": once}
    assert await reactions() == {}

    # Added again, it is a new reaction: announced once more, and removable once more.
    await asyncio.gather(*(react(n, "PUT") for n in range(0, 20, 4)))
    alone = {pair.chat.alice: 1}
    assert reactions_announced(pair.chat, message["id"]) == {"added": alone, "removed": {}}
    assert await reactions() == {":tada:": [pair.chat.alice]}
    await asyncio.gather(*(react(n, "DELETE") for n in range(0, 20, 4)))
    assert reactions_announced(pair.chat, message["id"]) == {"added": {}, "removed": alone}


async def test_racing_adds_and_removes_announce_each_reaction_once(pair: Pair) -> None:
    message = await send_through(pair, 0, "flip")
    bob = pair.chat.auth(pair.chat.bob)
    path = f"/{message['id']}/reactions/:eyes:"
    bus.drain(pair.chat.queue)
    calls = [
        pair.replicas[n % 2][0].request("DELETE" if n % 3 == 0 else "PUT", path, headers=bob)
        for n in range(20)
    ]
    assert {r.status_code for r in await asyncio.gather(*calls)} == {200}
    events = [e for e in bus.drain(pair.chat.queue) if e.type.startswith("message.reaction.")]
    # An event id names the reaction (one per time it was added): added once, removed at most once.
    added = Counter(e.id.removesuffix(".added") for e in events if e.type.endswith(".added"))
    removed = Counter(e.id.removesuffix(".removed") for e in events if e.type.endswith(".removed"))
    assert set(added.values()) == {1} and set(removed.values()) <= {1}
    assert set(removed) <= set(added)
    standing = set(added) - set(removed)
    shown = (await pair.chat.messages.get(f"/{message['id']}", headers=bob)).json()
    assert shown["reactions"] == ({":eyes:": [pair.chat.bob]} if standing else {})
    runtime = pair.chat.org.runtime("message")
    stored = (
        await runtime.document_db[store.REACTIONS].find({"message_id": message["id"]}).to_list(None)
    )
    assert {r["_id"] for r in stored} == standing


async def test_a_deleted_message_shows_and_keeps_no_reactions(pair: Pair) -> None:
    message = await send_through(pair, 0, "short")
    bob = pair.chat.auth(pair.chat.bob)
    await pair.chat.messages.put(f"/{message['id']}/reactions/:wave:", headers=bob)
    alice = pair.chat.auth(pair.chat.alice)
    assert (await pair.client.delete(f"/{message['id']}", headers=alice)).status_code == 204
    shown = (await pair.chat.messages.get(f"/{message['id']}", headers=alice)).json()
    assert shown["deleted"] is True and shown["reactions"] == {}
    late = await pair.chat.messages.put(f"/{message['id']}/reactions/:wave:", headers=alice)
    assert late.status_code == 409
    runtime = pair.chat.org.runtime("message")
    left = await runtime.document_db[store.REACTIONS].count_documents({"message_id": message["id"]})
    assert left == 0


@pytest.mark.parametrize("kind", ["read", "delivered"])
async def test_concurrent_marks_never_move_back_and_announce_a_seq_once(
    pair: Pair, kind: str
) -> None:
    sent = [await send_through(pair, n, f"r{n}") for n in range(20)]
    seqs = [m["seq"] for m in sent]
    bob = pair.chat.auth(pair.chat.bob)
    drain(pair.chat, f"message.{kind}")

    async def mark(n: int, seq: int) -> int:
        client, _ = pair.replicas[n % 2]
        body = {"channel_id": pair.chat.general, "seq": seq}
        response = await client.post(f"/{kind}", json=body, headers=bob)
        assert response.status_code == 200, response.text
        pointer: int = response.json()["seq"]
        assert pointer >= seq  # the answer is never behind the caller's own mark
        return pointer

    # Every seq twice, from both replicas, in an order that goes back and forth.
    order = [seqs[(n * 7) % 20] for n in range(20)] * 2
    await asyncio.gather(*(mark(n, seq) for n, seq in enumerate(order)))
    top = max(seqs)
    assert await mark(0, seqs[0]) == top  # never moves back
    events = [e for e in drain(pair.chat, f"message.{kind}") if e.data["user_id"] == pair.chat.bob]
    announced = Counter(e.data["seq"] for e in events)
    assert set(announced.values()) == {1} and announced[top] == 1
    assert set(announced) <= set(seqs)

    # Twenty marks of one new seq: one advance, one announcement.
    newest = await send_through(pair, 0, "newest")
    pointers = await asyncio.gather(*(mark(n, newest["seq"]) for n in range(20)))
    assert set(pointers) == {newest["seq"]}
    events = [e for e in drain(pair.chat, f"message.{kind}") if e.data["user_id"] == pair.chat.bob]
    assert [e.data["seq"] for e in events] == [newest["seq"]]

    runtime = pair.chat.org.runtime("message")
    stored = runtime.document_db[receipts.KINDS[kind]]
    rows = await stored.find({"channel_id": pair.chat.general, "user_id": pair.chat.bob}).to_list(
        None
    )
    assert [r["seq"] for r in rows] == [newest["seq"]]  # the lower ones were removed
    # A lower one not removed yet (its remover died) is not listed twice.
    await stored.insert_one({**rows[0], "_id": "left-behind", "seq": newest["seq"] - 1})
    alice = pair.chat.auth(pair.chat.alice)
    listed = (await pair.chat.messages.get(f"/{sent[0]['id']}/receipts", headers=alice)).json()
    field = "read_by" if kind == "read" else "delivered_to"
    assert [(r["user_id"], r["seq"]) for r in listed[field]] == [(pair.chat.bob, newest["seq"])]
