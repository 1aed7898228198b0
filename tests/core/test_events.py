"""The event buses: the real Kafka broker and the in-process bus, held to the same contract."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import OutOfOrderSequenceNumber
from sqlalchemy import Column, String, Table, func, insert, select

from quckchat.core import events
from quckchat.core.events import (
    Audience,
    BatchHandler,
    Event,
    EventBus,
    Handler,
    InChannel,
    InProcessBus,
    KafkaBus,
    Subscription,
    deliver_by_key,
    first_delivery,
    in_runs,
    processed_events_table,
)
from quckchat.core.sql import Database, new_id, new_metadata
from tests.support import server
from tests.worlds.waiting import eventually

TOPIC = "quckchat.sample"
# Bounds a wait for deliveries; a healthy broker delivers in a second or two.
DELIVERY_TIMEOUT = 60.0


def sample(key: str = "k1", **data: Any) -> Event:
    return Event(type="sample.thing.happened", source="sample", key=key, data=data, tenant="t1")


async def wait_until(condition: Callable[[], bool | Awaitable[bool]]) -> None:
    """Poll until `condition` holds or the bound passes; the caller asserts the outcome."""
    await eventually(condition, within=DELIVERY_TIMEOUT, poll=0.05)


@dataclass
class Buses:
    """Makes buses of one kind on a topic prefix of this test alone, and stops them after."""

    kind: str
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:8]}.")
    started: list[EventBus] = field(default_factory=list)

    async def start(
        self, *subscriptions: tuple[str, Handler], batch: BatchHandler | None = None
    ) -> EventBus:
        bus: EventBus
        if self.kind == "kafka":
            bus = KafkaBus(server("kafka"), client_id="tester", prefix=self.prefix)
        else:
            bus = InProcessBus(prefix=self.prefix)
        for group, handler in subscriptions:
            bus.subscribe(group, [TOPIC], handler, batch=batch)
        await bus.start()
        self.started.append(bus)
        return bus

    async def stop(self) -> None:
        for bus in reversed(self.started):
            await bus.stop()


@pytest.fixture(params=["in-process", pytest.param("kafka", marks=pytest.mark.kafka)])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[Buses]:
    made = Buses(request.param)
    try:
        yield made
    finally:
        await made.stop()


async def wait_for_stable_group(buses: list[EventBus]) -> None:
    """Kafka only: every member of the group holds partitions, so no rebalance is pending."""
    consumers = [c for bus in buses if isinstance(bus, KafkaBus) for c in bus._consumers]
    if not consumers:
        return

    def settled() -> bool:
        assignments = [c.assignment() for c in consumers]
        partitions = (
            consumers[0].partitions_for_topic(next(iter(consumers[0].subscription()))) or set()
        )
        held = [tp for a in assignments for tp in a]
        return all(assignments) and len(held) == len(set(held)) == len(partitions) > 0

    await wait_until(settled)
    assert settled(), "the consumer group did not settle"


def test_the_envelope_survives_json_with_every_field() -> None:
    event = Event(
        type="auth.user.registered",
        source="auth",
        key="u1",
        data={"actor": "u1", "name": "Zoë", "nested": {"list": [1, 2.5, None, True]}},
        tenant="acme",
    )
    back = Event.from_json(event.to_json())
    assert back == event
    assert (back.id, back.type, back.source, back.time, back.tenant, back.key, back.data) == (
        event.id,
        event.type,
        event.source,
        event.time,
        "acme",
        "u1",
        event.data,
    )


class Renamed(InChannel):
    type: ClassVar[str] = "test.renamed"
    name: str


def test_consumers_take_the_model_and_skip_a_malformed_event() -> None:
    renamed = Renamed(workspace_id="w1", channel_id="c1", name="ops")
    envelope = Event.of(renamed, source="test", tenant=None)
    assert envelope.key == "c1" and envelope.audience == Audience(channel_id="c1")
    assert Renamed.parse(envelope) == renamed
    for data in (
        {"workspace_id": "w1", "channel_id": "c1"},
        {**envelope.data, "channel_id": "../c"},
    ):
        malformed = Event(type=Renamed.type, source="test", key="c1", data=data)
        assert Renamed.parse(malformed) is None
    # Asking for the wrong model is the consumer's mistake: it fails loudly.
    other = Event(type="test.other", source="test", key="c1", data=envelope.data)
    with pytest.raises(TypeError):
        Renamed.parse(other)
    # A base model reads any event of its shape.
    assert InChannel.parse(other) == InChannel(workspace_id="w1", channel_id="c1")


def test_an_event_without_tenant_round_trips_with_none() -> None:
    event = Event(type="x.y.z", source="x", key="k", data={})
    assert Event.from_json(event.to_json()).tenant is None
    assert len(event.id) == 32 and event.id != Event(type="x.y.z", source="x", key="k", data={}).id


async def test_an_event_arrives_exactly_as_published(buses: Buses) -> None:
    received: list[Event] = []

    async def handle(event: Event) -> None:
        received.append(event)

    await buses.start(("receiver", handle))
    publisher = await buses.start()
    event = Event(
        type="sample.thing.happened",
        source="sample",
        key="entity-1",
        data={"actor": "u1", "text": "héllo", "n": [1, {"a": None}]},
        tenant="acme",
        time="2026-01-02T03:04:05.678901+00:00",
    )
    await publisher.publish(TOPIC, event)
    await wait_until(lambda: len(received) >= 1)
    assert received == [event]


async def test_events_with_one_key_arrive_in_publish_order(buses: Buses) -> None:
    received: list[int] = []

    async def handle(event: Event) -> None:
        received.append(event.data["n"])

    await buses.start(("ordered", handle))
    publisher = await buses.start()
    for n in range(50):
        await publisher.publish(TOPIC, sample(key="same-entity", n=n))
    await wait_until(lambda: len(received) >= 50)
    assert received == list(range(50))


async def test_a_slow_key_holds_up_only_its_own_events() -> None:
    """A consumer's batch: one key's handler waits (on a store, another service); the other
    key's events are handled meanwhile, and each key's stay in their order."""
    handled: list[tuple[str, int]] = []
    others_done = asyncio.Event()

    async def handle(event: Event) -> None:
        if event.key == "slow" and event.data["n"] == 0:
            await asyncio.wait_for(others_done.wait(), DELIVERY_TIMEOUT)
        handled.append((event.key, event.data["n"]))
        if sum(1 for key, _ in handled if key == "fast") == 3:
            others_done.set()

    sub = Subscription("lanes", (TOPIC,), handle)
    slow = [sample(key="slow", n=n) for n in range(2)]
    fast = [sample(key="fast", n=n) for n in range(3)]
    await deliver_by_key(sub, [slow, fast])
    assert handled == [("fast", 0), ("fast", 1), ("fast", 2), ("slow", 0), ("slow", 1)]


async def test_every_group_receives_every_event(buses: Buses) -> None:
    seen: dict[str, list[str]] = {"audit": [], "analytics": []}

    def recorder(group: str) -> Handler:
        async def handle(event: Event) -> None:
            seen[group].append(event.id)

        return handle

    await buses.start(("audit", recorder("audit")))
    await buses.start(("analytics", recorder("analytics")))
    publisher = await buses.start()
    published = [sample(key=f"entity-{i}", n=i) for i in range(20)]
    for event in published:
        await publisher.publish(TOPIC, event)
    await wait_until(lambda: all(len(ids) >= 20 for ids in seen.values()))
    for ids in seen.values():
        assert sorted(ids) == sorted(e.id for e in published)


async def test_replicas_of_one_group_share_the_events_without_duplicates(buses: Buses) -> None:
    handled: list[tuple[str, str]] = []
    warmed = asyncio.Event()

    def replica(name: str) -> Handler:
        async def handle(event: Event) -> None:
            if event.type == "sample.warmup":
                warmed.set()
                return
            handled.append((name, event.id))

        return handle

    # Two buses are two replicas of one service: one consumer group between them.
    first = await buses.start(("shared", replica("first")))
    second = await buses.start(("shared", replica("second")))
    publisher = await buses.start()
    # The warm-up creates the topic so the group can settle before the counted events flow.
    await publisher.publish(TOPIC, Event(type="sample.warmup", source="sample", key="w", data={}))
    await wait_for_stable_group([first, second])
    await asyncio.wait_for(warmed.wait(), DELIVERY_TIMEOUT)

    published = [sample(key=f"entity-{i}", n=i) for i in range(30)]
    for event in published:
        await publisher.publish(TOPIC, event)
    await wait_until(lambda: len(handled) >= len(published))
    # Redeliveries would only show up later: give them a moment to appear before counting.
    await asyncio.sleep(1.0)

    per_event = Counter(event_id for _, event_id in handled)
    assert set(per_event) == {e.id for e in published}
    assert set(per_event.values()) == {1}
    if buses.kind == "kafka":
        # Three partitions over two members: both replicas take part.
        assert {name for name, _ in handled} == {"first", "second"}


async def test_a_failing_handler_is_retried_and_a_poison_event_does_not_block_the_stream(
    buses: Buses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "RETRY_DELAYS", (0.01, 0.01))
    tries: Counter[str] = Counter()
    done: list[str] = []

    async def handle(event: Event) -> None:
        tries[event.data["name"]] += 1
        if event.data["name"] == "poison":
            raise RuntimeError("never works")
        if event.data["name"] == "flaky" and tries["flaky"] == 1:
            raise RuntimeError("works the second time")
        done.append(event.data["name"])

    await buses.start(("retrying", handle))
    publisher = await buses.start()
    for name in ("flaky", "poison", "fine"):
        await publisher.publish(TOPIC, sample(key="one-entity", name=name))
    await wait_until(lambda: "fine" in done)
    assert done == ["flaky", "fine"]
    assert tries == {"flaky": 2, "poison": 3, "fine": 1}


async def test_a_batch_handler_takes_what_was_fetched_at_once_each_key_in_order(
    buses: Buses,
) -> None:
    batches: list[list[Event]] = []
    one_by_one: list[Event] = []

    async def take(batch: list[Event]) -> None:
        batches.append(batch)

    async def handle(event: Event) -> None:
        one_by_one.append(event)

    await buses.start(("batched", handle), batch=take)
    publisher = await buses.start()
    if buses.kind == "kafka":
        await publisher.publish(TOPIC, sample(key="warm", n=-1))
        await wait_until(lambda: bool(batches))
        batches.clear()
    sent = [sample(key=f"k{n % 2}", n=n) for n in range(20)]
    for event in sent:
        await publisher.publish(TOPIC, event)
    await wait_until(lambda: sum(len(b) for b in batches) >= len(sent))
    taken = [event for batch in batches for event in batch]
    assert sorted(e.id for e in taken) == sorted(e.id for e in sent) and not one_by_one
    for key in ("k0", "k1"):
        mine = [e.data["n"] for e in sent if e.key == key]
        assert [e.data["n"] for e in taken if e.key == key] == mine
    if buses.kind == "in-process":  # queued before the pump ran: one fetch
        assert len(batches) == 1


async def test_a_batch_that_keeps_failing_is_handled_event_by_event(
    buses: Buses, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "BATCH_RETRY_DELAYS", (0.01,))
    monkeypatch.setattr(events, "RETRY_DELAYS", (0.01,))
    batch_tries = 0
    done: list[str] = []

    async def take(batch: list[Event]) -> None:
        nonlocal batch_tries
        batch_tries += 1
        if any(e.data["name"] == "poison" for e in batch):
            raise RuntimeError("a bad event spoils the batch")
        done.extend(e.data["name"] for e in batch)

    async def handle(event: Event) -> None:
        if event.data["name"] == "poison":
            raise RuntimeError("never works")
        done.append(event.data["name"])

    await buses.start(("falling-back", handle), batch=take)
    publisher = await buses.start()
    for name in ("before", "poison", "after"):
        await publisher.publish(TOPIC, sample(key="one", name=name))
    await wait_until(lambda: "after" in done)
    assert done == ["before", "after"] and batch_tries >= 2


async def test_runs_of_batched_types_go_together_and_the_rest_alone_in_order() -> None:
    calls: list[tuple[str, list[int]]] = []

    async def run(batch: list[Event]) -> None:
        calls.append(("run", [e.data["n"] for e in batch]))

    async def one(event: Event) -> None:
        calls.append(("one", [event.data["n"]]))

    kinds = ["a", "a", "b", "a", "b", "b", "a"]
    given = [Event(type=k, source="s", key="k", data={"n": n}) for n, k in enumerate(kinds)]
    await in_runs(given, {"a"}, run, one)
    assert calls == [
        ("run", [0, 1]),
        ("one", [2]),
        ("run", [3]),
        ("one", [4]),
        ("one", [5]),
        ("run", [6]),
    ]


@pytest.fixture
async def kafka_buses() -> AsyncIterator[Buses]:
    made = Buses("kafka")
    try:
        yield made
    finally:
        await made.stop()


async def reading(buses: Buses) -> list[Event]:
    """What a new group of its own receives on the topic, as it arrives."""
    received: list[Event] = []

    async def handle(event: Event) -> None:
        received.append(event)

    await buses.start(("reader", handle))
    return received


@pytest.mark.kafka
async def test_an_unreadable_record_is_skipped(kafka_buses: Buses) -> None:
    received = await reading(kafka_buses)
    producer = AIOKafkaProducer(bootstrap_servers=server("kafka"))
    await producer.start()
    try:
        await producer.send_and_wait(kafka_buses.prefix + TOPIC, b"not json", key=b"k")
        await producer.send_and_wait(kafka_buses.prefix + TOPIC, b'{"type": "no id"}', key=b"k")
    finally:
        await producer.stop()
    publisher = await kafka_buses.start()
    good = sample(key="k")
    await publisher.publish(TOPIC, good)
    await wait_until(lambda: len(received) >= 1)
    assert received == [good]


@pytest.mark.kafka
async def test_a_producer_the_broker_refuses_is_replaced_and_the_retry_arrives(
    kafka_buses: Buses,
) -> None:
    """A batch the producer gave up on while the broker was away leaves a gap in its sequence;
    the broker then refuses every later batch (OutOfOrderSequenceNumber), for good, unless the
    bus starts a new producer."""
    received = await reading(kafka_buses)
    publisher = await kafka_buses.start()
    assert isinstance(publisher, KafkaBus)
    first, second = sample(key="k", n=1), sample(key="k", n=2)
    await publisher.publish(TOPIC, first)
    refused = publisher._producer
    sequences = refused._txn_manager._sequence_numbers
    for partition in list(sequences):  # the gap a lost batch leaves
        refused._txn_manager.increment_sequence_number(partition, 5)
    with pytest.raises(OutOfOrderSequenceNumber):
        await publisher.publish(TOPIC, second)
    await publisher.publish(TOPIC, second)  # as the outbox sends it again
    assert publisher._producer is not refused
    await wait_until(lambda: len(received) >= 2)
    assert received == [first, second]


async def test_a_retried_or_redelivered_event_has_its_effect_once(
    buses: Buses, sql_url: str
) -> None:
    metadata = new_metadata()
    processed = processed_events_table(metadata)
    effects = Table(
        "effects",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("event_id", String(64), nullable=False),
    )
    db = Database(sql_url)
    await db.create_all(metadata)
    tries: Counter[str] = Counter()

    async def handle(event: Event) -> None:
        tries[event.id] += 1
        async with db.session() as session:
            if await first_delivery(session, processed, event):
                await session.execute(
                    insert(effects).values(id=uuid.uuid4().hex, event_id=event.id)
                )
                if event.data["flaky"] and tries[event.id] == 1:
                    # Fails after the effect: the rollback must take effect and record back.
                    raise RuntimeError("transient failure")

    try:
        await buses.start(("effects", handle))
        publisher = await buses.start()
        flaky, steady = sample(key="e", flaky=True), sample(key="e", flaky=False)
        await publisher.publish(TOPIC, flaky)
        await publisher.publish(TOPIC, steady)
        # The same event again, as a producer retry or a replayed partition would deliver it.
        await publisher.publish(TOPIC, flaky)
        await wait_until(lambda: tries[flaky.id] >= 3 and tries[steady.id] >= 1)
        assert tries == {flaky.id: 3, steady.id: 1}

        async with db.session() as session:
            counts: dict[str, int] = dict(
                (
                    await session.execute(
                        select(effects.c.event_id, func.count()).group_by(effects.c.event_id)
                    )
                ).all()
            )
            recorded = set((await session.scalars(select(processed.c.event_id))).all())
        assert counts == {flaky.id: 1, steady.id: 1}
        assert recorded == {flaky.id, steady.id}
    finally:
        await db.close()


@pytest.mark.kafka
async def test_a_replica_joining_mid_stream_leaves_every_effect_done_once(sql_url: str) -> None:
    buses = Buses("kafka")
    metadata = new_metadata()
    processed = processed_events_table(metadata)
    # Its own key, so a second effect of one event would show as a second row.
    effects = Table(
        "effects",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("event_id", String(64), nullable=False),
    )
    db = Database(sql_url)
    await db.create_all(metadata)
    deliveries: Counter[str] = Counter()

    async def handle(event: Event) -> None:
        deliveries[event.id] += 1
        async with db.session() as session:
            if await first_delivery(session, processed, event):
                await session.execute(insert(effects).values(id=new_id(), event_id=event.id))

    async def effect_rows() -> list[str]:
        async with db.session() as session:
            return list((await session.scalars(select(effects.c.event_id))).all())

    async def all_done() -> bool:
        return len(await effect_rows()) >= len(published)

    published = [sample(key=f"entity-{i % 7}", n=i) for i in range(120)]
    try:
        await buses.start(("shared", handle))
        publisher = await buses.start()
        for event in published[:60]:
            await publisher.publish(TOPIC, event)
        await wait_until(lambda: len(deliveries) >= 10)
        # The second replica joins while the first is busy: the group rebalances under load,
        # and a batch the first had not committed yet may be delivered to both.
        await buses.start(("shared", handle))
        for event in published[60:]:
            await publisher.publish(TOPIC, event)
        await wait_until(all_done)
        rows = await effect_rows()
        assert sorted(rows) == sorted(e.id for e in published)
        assert set(deliveries) == {e.id for e in published}
    finally:
        await buses.stop()
        await db.close()
