"""The document outbox on the embedded store and the real MongoDB-protocol server: a document
announces itself after its write, an older pending one of its key first, and the relay sends
what a failed publish left behind."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any, ClassVar, cast

import pytest

from quckchat.core import outbox
from quckchat.core.documents import Documents
from quckchat.core.events import DomainEvent
from quckchat.core.outbox import DocumentOutbox
from quckchat.core.periodic import WAKE
from quckchat.core.runtime import Runtime
from quckchat.core.sql import utcnow


class Posted(DomainEvent):
    type: ClassVar[str] = "sample.posted"
    room: str
    n: int

    @property
    def key(self) -> str:
        return self.room


class Announcer:
    """What the outbox needs of a runtime: the document store, and an emit that can fail."""

    def __init__(self, docs: Documents) -> None:
        self.docs = docs
        self.emitted: list[tuple[str, int]] = []
        self.down = False
        self.state: dict[str, Any] = {}  # where a nudge of the relay job is recorded

    @property
    def document_db(self) -> Any:
        return self.docs.db

    async def emit(self, event: Posted, *, tenant: str | None, event_id: str) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        self.emitted.append((event_id, event.n))


async def events_of(runtime: Runtime, doc: dict[str, Any]) -> Sequence[tuple[str, DomainEvent]]:
    return [(f"{doc['_id']}.posted", Posted(room=doc["room"], n=doc["n"]))]


POSTS = DocumentOutbox("sample outbox", "posts", events_of, key="room", order="n")


@pytest.fixture
async def announcer(documents_url: str | None) -> AsyncIterator[Announcer]:
    docs = Documents(documents_url, database=f"outbox_{uuid.uuid4().hex[:8]}")
    await docs.start()
    await docs.ensure_indexes(POSTS.indexes())
    yield Announcer(docs)
    if documents_url:
        await docs.db.client.drop_database(docs.db.name)
    await docs.close()


async def post(announcer: Announcer, room: str, n: int, *, age: float = 0) -> dict[str, Any]:
    doc = {
        "_id": f"{room}-{n}",
        "room": room,
        "n": n,
        "tenant": "t1",
        "published": False,
        "created_at": utcnow() - timedelta(seconds=age),
    }
    await announcer.document_db["posts"].insert_one(doc)
    return doc


def runtime(announcer: Announcer) -> Runtime:
    return cast(Runtime, announcer)


async def test_a_document_waits_behind_older_failed_ones_of_its_key_for_the_relay(
    announcer: Announcer,
) -> None:
    announcer.down = True
    first = await post(announcer, "r1", 1)
    assert await POSTS.publish(runtime(announcer), first) is False
    second = await post(announcer, "r1", 2)
    assert await POSTS.publish(runtime(announcer), second) is False
    other = await post(announcer, "r2", 1)
    announcer.down = False
    third = await post(announcer, "r1", 3)
    # The writer does not send the backlog beside the relay: it joins it.
    assert await POSTS.publish(runtime(announcer), third) is False
    assert announcer.emitted == []
    assert announcer.state[WAKE][POSTS.name].is_set()  # the relay runs now, not at its tick
    assert await POSTS.publish(runtime(announcer), other) is True  # another key: its own turn
    # Failed ones need no grace period: the relay sends them in their key's order, once.
    assert await POSTS.relay(runtime(announcer)) == 3
    sent = [n for event_id, n in announcer.emitted if event_id.startswith("r1-")]
    assert sent == [1, 2, 3]
    assert await POSTS.relay(runtime(announcer)) == 0
    pending = await announcer.document_db["posts"].count_documents({"published": False})
    assert pending == 0


async def test_the_relay_sends_what_waited_past_the_grace_period(announcer: Announcer) -> None:
    await post(announcer, "r1", 1, age=outbox.GRACE.total_seconds() + 1)
    await post(announcer, "r1", 2)  # within the grace period: its request may still send it
    assert await POSTS.relay(runtime(announcer)) == 1
    assert announcer.emitted == [("r1-1.posted", 1)]
    assert await POSTS.relay(runtime(announcer)) == 0


async def test_a_claim_keeps_other_replicas_off_a_document(announcer: Announcer) -> None:
    taken: set[str] = set()
    given_back: list[str] = []

    async def claim(_: Runtime, doc: dict[str, Any]) -> bool:
        won = doc["_id"] not in taken
        taken.add(doc["_id"])
        return won

    async def release(_: Runtime, doc: dict[str, Any]) -> None:
        given_back.append(doc["_id"])
        taken.discard(doc["_id"])

    claimed = DocumentOutbox(
        "claimed", "posts", events_of, key="room", order="n", claim=claim, release=release
    )
    announcer.down = True
    await post(announcer, "r1", 1, age=60)
    await post(announcer, "r1", 2, age=59)
    assert await claimed.relay(runtime(announcer)) == 0  # tried, failed, still pending
    assert given_back == ["r1-1"]  # the next round need not wait out a lease
    announcer.down = False
    taken.add("r1-1")  # another replica's relay holds the oldest: the round stops there
    assert await claimed.relay(runtime(announcer)) == 0
    assert announcer.emitted == []
    taken.clear()
    assert await claimed.relay(runtime(announcer)) == 2
    assert [n for _, n in announcer.emitted] == [1, 2]
