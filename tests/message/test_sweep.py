"""The claims' sweep: it removes old claims whose work is recorded, and keeps every other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quckchat.core import outbox
from quckchat.core.sql import utcnow
from quckchat.message import store, timers
from tests.message.conftest import Chat
from tests.worlds.bus import drain


async def test_the_sweep_removes_only_old_claims_of_finished_work(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "GRACE", timedelta(days=1))  # the test's outbox alone
    runtime = chat.org.runtime("message")
    database = runtime.document_db
    claims = database[store.CLAIMS]
    alice, bob = chat.auth(chat.alice), chat.auth(chat.bob)

    async def held(key: str) -> None:
        """A claim whose holder died before finishing."""
        await claims.insert_one({"_id": key, "at": utcnow()})

    edited = await chat.send(chat.alice, "first")
    response = await chat.messages.patch(f"/{edited['id']}", json={"text": "2nd"}, headers=alice)
    assert response.status_code == 200
    await held(f"{edited['id']}.edited.2#0")
    await held(f"{edited['id']}.outbox#0")  # its event went out after all: it is published
    deleted = await chat.send(chat.alice, "gone")
    assert (await chat.messages.delete(f"/{deleted['id']}", headers=alice)).status_code == 204
    reacted = await chat.send(chat.alice, "react")
    path = f"/{reacted['id']}/reactions/:wave:"
    await chat.messages.put(path, headers=bob)
    first = await database[store.REACTIONS].find_one({"message_id": reacted["id"]})
    await chat.messages.delete(path, headers=bob)
    await chat.messages.put(path, headers=bob)
    second = await database[store.REACTIONS].find_one({"message_id": reacted["id"]})
    await held(store.UNREACT + second["_id"])
    waiting = await chat.send(chat.alice, "unpublished")
    await database[store.MESSAGES].update_one(
        {"_id": waiting["id"]}, {"$set": {"published": False}}
    )
    await held(f"{waiting['id']}.outbox#0")
    short = await chat.send(chat.alice, "short")
    past = datetime.now(UTC) - timedelta(seconds=1)
    await database[store.MESSAGES].update_one({"_id": short["id"]}, {"$set": {"expires_at": past}})
    await store.will_expire(runtime, short["id"], past)
    await timers.expire_due(runtime)  # or the replica's own timer did already
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled = await chat.messages.post(
        "/scheduled",
        json={"channel_id": chat.general, "text": "x", "scheduled_at": later},
        headers=alice,
    )
    cancelled = scheduled.json()["id"]
    response = await chat.messages.delete(f"/scheduled/{cancelled}", headers=alice)
    assert response.status_code == 204
    sending = {"_id": "job-sending", "status": "sending", "due_at": utcnow() + timedelta(hours=1)}
    await database[store.SCHEDULED].insert_one({**sending, "claimed_at": utcnow()})
    await held("scheduled.job-sending#0")
    await held("scheduled.job-sending#1")
    await held("not-a-known-claim")

    finished = {
        f"{edited['id']}.edited.1#0",
        f"{edited['id']}.outbox#0",
        f"{deleted['id']}.deleted#0",
        store.UNREACT + first["_id"],
        f"{short['id']}.expired#0",
        f"scheduled.{cancelled}#0",
    }
    unfinished = {
        f"{edited['id']}.edited.2#0",
        store.UNREACT + second["_id"],
        f"{waiting['id']}.outbox#0",
        "scheduled.job-sending#0",
        "scheduled.job-sending#1",
        "not-a-known-claim",
        store.EXPIRING_LISTED,  # the startup listing's mark, made once per database
    }
    assert set(await claims.distinct("_id")) == finished | unfinished

    # Within the retention, nothing goes.
    soon = utcnow() + timedelta(hours=1)
    assert await timers.sweep_claims(runtime, now=soon) == (0, None)
    assert set(await claims.distinct("_id")) == finished | unfinished

    # Past it, the finished ones go, a few batches at a time.
    monkeypatch.setattr(timers, "BATCH", 2)
    monkeypatch.setattr(timers, "SWEEP_PAGES", 2)
    much_later = utcnow() + timers.CLAIM_RETENTION + timedelta(hours=1)
    removed, resume = await timers.sweep_claims(runtime, now=much_later)
    runs = 1
    while resume is not None:
        more, resume = await timers.sweep_claims(runtime, after=resume, now=much_later)
        removed, runs = removed + more, runs + 1
    assert removed == len(finished) and runs > 1
    assert set(await claims.distinct("_id")) == unfinished

    # What they guarded stays done once.
    drain(chat.queue)
    assert (await chat.messages.delete(f"/{deleted['id']}", headers=alice)).status_code == 204
    assert (await chat.messages.delete(f"/scheduled/{cancelled}", headers=alice)).status_code == 404
    assert await timers.expire_due(runtime) == 0
    again = [e for e in drain(chat.queue) if e.type in ("message.deleted", "message.expired")]
    assert again == []
