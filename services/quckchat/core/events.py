"""Events: typed by their producers, one bus interface, Kafka (aiokafka) and in-process.

A producer declares each event it makes in `quckchat/<service>/events.py` as a `DomainEvent`:
its type, its fields, its key and who among the clients may see it. The envelope (`Event`)
carries that audience, so realtime routes an event without knowing its producer.

Delivery is at-least-once in both: a handler that fails is retried, so consumers make their
effects idempotent with `first_delivery` (a redelivered event then has no second effect).
Every event carries a key (the entity it is about); Kafka keeps per-key order by partition,
and a Kafka consumer handles one key's events in that order, different keys' side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar, Literal, Protocol, Self

from aiokafka.errors import (
    InvalidProducerEpoch,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    UnknownProducerId,
)
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Column, MetaData, String, Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.core import logging as qlog
from quckchat.core.sql import UTCDateTime, is_unique_violation, utcnow
from quckchat.core.values import Id

log = qlog.get("events")


Membership = Literal["joined", "left"]


class Audience(BaseModel):
    """Which clients see an event: a channel's members, a workspace's, and named users.

    `membership` says the event changes who is in the channel (or, without one, the
    workspace): the named users joined, see it and what follows; or they left (with no users
    named, everyone did: it was deleted), see it and nothing after."""

    model_config = ConfigDict(frozen=True)

    channel_id: str | None = None
    workspace_id: str | None = None
    users: tuple[str, ...] = ()
    membership: Membership | None = None


class DomainEvent(BaseModel):
    """An event's data, declared by its producer; subclasses set `type` and `key`."""

    model_config = ConfigDict(frozen=True)

    type: ClassVar[str]

    @property
    def key(self) -> str:
        """The entity the event is about: events of one key are delivered in order."""
        raise NotImplementedError

    def audience(self) -> Audience | None:
        """The clients that see the event (realtime delivers it to them); None for none."""
        return None

    @classmethod
    def of(cls, event: Event) -> Self:
        """The typed event a consumer receives (a malformed one is a ValidationError; one of
        another type, a TypeError: the caller's mistake, not the producer's)."""
        declared = getattr(cls, "type", None)
        if declared is not None and event.type != declared:
            raise TypeError(f"a {event.type} event is not a {declared}")
        return cls.model_validate(event.data)

    @classmethod
    def parse(cls, event: Event) -> Self | None:
        """The typed event, or None (logged) for a malformed one: retrying it cannot help, so
        a consumer skips it."""
        try:
            return cls.of(event)
        except ValidationError as exc:
            log.warning("event %s (%s) is not usable; ignored: %s", event.id, event.type, exc)
            return None


class AboutUser(DomainEvent):
    """About one user: keyed by them, and seen by their own devices."""

    user_id: Id

    @property
    def key(self) -> str:
        return self.user_id

    def audience(self) -> Audience | None:
        return Audience(users=(self.user_id,))


class InWorkspace(DomainEvent):
    """About a workspace or something in it: keyed by the workspace; its members see it."""

    workspace_id: Id

    @property
    def key(self) -> str:
        return self.workspace_id

    def audience(self) -> Audience | None:
        return Audience(workspace_id=self.workspace_id)


class InChannel(DomainEvent):
    """About a channel or something in it: keyed by the channel (its events arrive in order);
    its members see it."""

    workspace_id: Id
    channel_id: Id

    @property
    def key(self) -> str:
        return self.channel_id

    def audience(self) -> Audience | None:
        return Audience(channel_id=self.channel_id)


@dataclass(frozen=True)
class Event:
    """The envelope every QuckChat event travels in (the fields of a CloudEvent, plus key)."""

    type: str
    source: str
    key: str
    data: dict[str, Any]
    tenant: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    audience: Audience | None = None

    @classmethod
    def of(
        cls, event: DomainEvent, *, source: str, tenant: str | None, id: str | None = None
    ) -> Event:
        return cls(
            type=event.type,
            source=source,
            key=event.key,
            data=event.model_dump(mode="json"),
            tenant=tenant,
            id=id or uuid.uuid4().hex,
            audience=event.audience(),
        )

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "id": self.id,
                "type": self.type,
                "source": self.source,
                "time": self.time,
                "tenant": self.tenant,
                "key": self.key,
                "audience": None if self.audience is None else self.audience.model_dump(),
                "data": self.data,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Event:
        obj = json.loads(raw)
        audience = obj.get("audience")
        return cls(
            type=obj["type"],
            source=obj["source"],
            key=obj.get("key") or "",
            data=obj.get("data") or {},
            tenant=obj.get("tenant"),
            id=obj["id"],
            time=obj["time"],
            audience=None if audience is None else Audience.model_validate(audience),
        )


Handler = Callable[[Event], Awaitable[None]]
BatchHandler = Callable[[list[Event]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    group: str
    topics: tuple[str, ...]
    handler: Handler
    # Every replica gets every event (from the time it started), e.g. to drop its own caches.
    broadcast: bool = False
    # Takes a fetched batch in one call (one transaction, one bulk request); `handler` then
    # serves only when a batch keeps failing, one event at a time.
    batch: BatchHandler | None = None


class EventBus(Protocol):
    def subscribe(
        self,
        group: str,
        topics: list[str],
        handler: Handler,
        *,
        broadcast: bool = False,
        batch: BatchHandler | None = None,
    ) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, topic: str, event: Event) -> None: ...
    async def ping(self) -> None: ...


class BrokerBacklog(ConnectionError):
    """Earlier events of this producer still wait for the broker: this one is not sent."""


RETRY_DELAYS = (0.05, 0.2, 1.0, 3.0)
# A batch handler's tries before its batch goes event by event (where one bad event holds up
# only itself).
BATCH_RETRY_DELAYS = (0.05, 0.2)
# How many keys of one fetched batch a consumer handles at once (each key's events in order).
KEYS_AT_ONCE = 16
# The most events one fetch hands a consumer.
BATCH_SIZE = 200


async def deliver(sub: Subscription, lanes: list[list[Event]]) -> None:
    """Hand a fetched batch, grouped in lanes (one key's events each, in order), to the
    subscription: whole to its batch handler, else lane by lane."""
    if sub.batch is not None and await _deliver_batch(sub, [e for lane in lanes for e in lane]):
        return
    await deliver_by_key(sub, lanes)


async def in_runs(
    events: list[Event],
    batched: Collection[str],
    run: Callable[[list[Event]], Awaitable[None]],
    one: Handler,
) -> None:
    """Hand each run of consecutive events of the `batched` types to `run` at once, and every
    other event to `one` alone, in the order given (a batch handler's usual shape)."""
    pending: list[Event] = []
    for event in events:
        if event.type in batched:
            pending.append(event)
            continue
        if pending:
            await run(pending)
            pending = []
        await one(event)
    if pending:
        await run(pending)


async def _deliver_batch(sub: Subscription, events: list[Event]) -> bool:
    """Whether the batch handler took the batch, within its tries."""
    assert sub.batch is not None
    for delay in (*BATCH_RETRY_DELAYS, None):
        try:
            await sub.batch(events)
            return True
        except Exception:
            if delay is None:
                log.warning(
                    "a batch of %d events failed in %s; handling them one by one",
                    len(events),
                    sub.group,
                    exc_info=True,
                )
                return False
            log.warning("a batch failed in %s, retrying", sub.group, exc_info=True)
            await asyncio.sleep(delay)
    return False


async def deliver_by_key(sub: Subscription, lanes: list[list[Event]]) -> None:
    """Handle each lane (one key's events, in order) to its end, up to KEYS_AT_ONCE lanes at a
    time: a handler waiting on a store or another service holds up only its own key."""
    room = asyncio.Semaphore(KEYS_AT_ONCE)

    async def run(lane: list[Event]) -> None:
        async with room:
            for event in lane:
                await _deliver(sub, event)

    await asyncio.gather(*(run(lane) for lane in lanes))


async def _deliver(sub: Subscription, event: Event) -> None:
    """Run the handler, retrying with backoff; give up loudly after the last try."""
    for attempt, delay in enumerate((*RETRY_DELAYS, None)):
        try:
            await sub.handler(event)
            return
        except Exception:
            if delay is None:
                log.exception(
                    "event %s (%s) dropped by %s after %d tries",
                    event.id,
                    event.type,
                    sub.group,
                    attempt + 1,
                )
                return
            log.warning("event %s failed in %s, retrying", event.id, sub.group, exc_info=True)
            await asyncio.sleep(delay)


class _Hub:
    """The process-wide router of the in-process bus: one queue per (group, topic set)."""

    def __init__(self) -> None:
        self.queues: dict[str, list[tuple[str, asyncio.Queue[Event]]]] = defaultdict(list)

    def attach(self, group: str, topics: tuple[str, ...]) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        for topic in topics:
            self.queues[topic].append((group, queue))
        return queue

    def detach(self, queue: asyncio.Queue[Event]) -> None:
        for topic, entries in self.queues.items():
            self.queues[topic] = [(g, q) for g, q in entries if q is not queue]

    def route(self, topic: str, event: Event) -> None:
        # One delivery per consumer group, as Kafka does (in one process a group has one member).
        seen: set[str] = set()
        for group, queue in self.queues.get(topic, []):
            if group not in seen:
                seen.add(group)
                queue.put_nowait(event)


_HUB = _Hub()


class _Subscriptions:
    """What both buses keep of their subscribers until they start."""

    subscriptions: list[Subscription]

    def subscribe(
        self,
        group: str,
        topics: list[str],
        handler: Handler,
        *,
        broadcast: bool = False,
        batch: BatchHandler | None = None,
    ) -> None:
        self.subscriptions.append(Subscription(group, tuple(topics), handler, broadcast, batch))


class InProcessBus(_Subscriptions):
    """Events inside one process (the `quckchat run` default); same interface as Kafka."""

    def __init__(self, prefix: str = "", hub: _Hub | None = None) -> None:
        self.prefix = prefix
        self.hub = hub or _HUB
        self.subscriptions: list[Subscription] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._queues: list[asyncio.Queue[Event]] = []

    async def start(self) -> None:
        for sub in self.subscriptions:
            # A group of its own per bus: each service instance in the process gets every event.
            group = f"{sub.group}#{id(self)}" if sub.broadcast else sub.group
            queue = self.hub.attach(group, tuple(self.prefix + t for t in sub.topics))
            self._queues.append(queue)
            self._tasks.append(asyncio.create_task(self._pump(sub, queue)))

    async def _pump(self, sub: Subscription, queue: asyncio.Queue[Event]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < BATCH_SIZE and not queue.empty():
                batch.append(queue.get_nowait())
            lanes: dict[str, list[Event]] = defaultdict(list)
            for event in batch:
                lanes[event.key].append(event)
            await deliver(sub, list(lanes.values()))

    async def stop(self) -> None:
        for queue in self._queues:
            self.hub.detach(queue)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._queues.clear()

    async def publish(self, topic: str, event: Event) -> None:
        self.hub.route(self.prefix + topic, event)

    async def ping(self) -> None:
        return None


# The broker refused the producer's sequence (a batch it gave up on while the broker was away
# left a gap): aiokafka's sender stops for good, so a new producer, with a new id, takes over.
BROKEN_PRODUCER = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
)


class KafkaBus(_Subscriptions):
    """Events on Kafka: an idempotent producer, one consumer group per subscribing service."""

    def __init__(
        self, bootstrap: str, *, client_id: str, prefix: str = "", publish_timeout: float = 3.0
    ) -> None:
        self.bootstrap = bootstrap
        # A request publishing after its commit gives up after this (the outbox sends it later)
        # instead of hanging while the broker is away.
        self.publish_timeout = publish_timeout
        self._stale: set[asyncio.Future[Any]] = set()
        self.client_id = client_id
        self.prefix = prefix
        self.subscriptions: list[Subscription] = []
        self._producer: Any = None
        # The producer the broker refused, until one replaces it.
        self._broken: Any = None
        # Concurrent publishes that find the producer broken replace it once.
        self._replacing = asyncio.Lock()
        self._consumers: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def _new_producer(self) -> Any:
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id=self.client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
        )
        try:
            await producer.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        return producer

    async def _replace_broken_producer(self) -> None:
        """Stop the refused producer (which fails all it held: the outbox sends that again) and
        start a new one, with a new producer id; bounded, so publishes give up instead of
        queueing behind a broker that is still away."""
        async with asyncio.timeout(2 * self.publish_timeout), self._replacing:
            old = self._broken
            if old is None or old is not self._producer:
                return  # another publish replaced it meanwhile
            try:
                await asyncio.wait_for(old.stop(), self.publish_timeout)
            except Exception as exc:  # the old producer is gone either way
                log.info("the refused event producer stopped with: %r", exc)
            self._stale.clear()
            self._producer = await self._new_producer()
            self._broken = None
            log.warning("the event producer was refused by the broker and was replaced")

    def _refused(self, producer: Any) -> None:
        # Only the producer still in use: a late failure of a replaced one changes nothing.
        if producer is self._producer:
            self._broken = producer

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer

        self._producer = await self._new_producer()
        for sub in self.subscriptions:
            consumer = AIOKafkaConsumer(
                *(self.prefix + t for t in sub.topics),
                bootstrap_servers=self.bootstrap,
                client_id=self.client_id,
                # Broadcast: no group, every partition, from now on, nothing committed.
                group_id=None if sub.broadcast else self.prefix + sub.group,
                enable_auto_commit=False,
                auto_offset_reset="latest" if sub.broadcast else "earliest",
                metadata_max_age_ms=5000,
            )
            await consumer.start()
            self._consumers.append(consumer)
            self._tasks.append(asyncio.create_task(self._pump(sub, consumer)))

    async def _pump(self, sub: Subscription, consumer: Any) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=BATCH_SIZE)
            lanes: dict[tuple[str, bytes | None], list[Event]] = defaultdict(list)
            for records in batches.values():
                for record in records:
                    try:
                        event = Event.from_json(record.value)
                    except (ValueError, KeyError):
                        log.error("unreadable event at %s:%s skipped", record.topic, record.offset)
                        continue
                    lanes[(record.topic, record.key)].append(event)
            await deliver(sub, list(lanes.values()))
            if batches and not sub.broadcast:
                # Commit only after handling: a crash before this line redelivers the batch.
                await consumer.commit()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for consumer in self._consumers:
            await consumer.stop()
        if self._producer is not None:
            await self._producer.stop()
        self._tasks.clear()
        self._consumers.clear()

    async def publish(self, topic: str, event: Event) -> None:
        """Send and wait for the broker's ack, at most `publish_timeout` seconds.

        A send that timed out stays in the producer's buffer and may still be delivered when
        the broker is back. Until every such send has settled, later ones are refused at once:
        appended meanwhile, they could overtake what the outbox then sends again, oldest first.
        """
        if self._broken is not None:
            await self._replace_broken_producer()
        if self._stale:
            raise BrokerBacklog(f"{len(self._stale)} earlier events still wait for the broker")
        producer = self._producer
        try:
            delivered = await asyncio.wait_for(
                producer.send(self.prefix + topic, event.to_json(), key=event.key.encode()),
                self.publish_timeout,
            )
            try:
                await asyncio.wait_for(asyncio.shield(delivered), self.publish_timeout)
            except TimeoutError:
                self._stale.add(delivered)
                delivered.add_done_callback(partial(self._settled, producer))
                raise
        except BROKEN_PRODUCER:
            self._refused(producer)
            raise

    def _settled(self, producer: Any, delivered: asyncio.Future[Any]) -> None:
        self._stale.discard(delivered)
        if delivered.cancelled() or delivered.exception() is None:
            return
        if isinstance(delivered.exception(), BROKEN_PRODUCER):
            self._refused(producer)
        log.info("an event that timed out was not delivered either: %s", delivered.exception())

    async def ping(self) -> None:
        await self._producer.client.fetch_all_metadata()


def processed_events_table(metadata: MetaData, name: str = "processed_events") -> Table:
    """The table a consuming service records handled event ids in; services sharing a database
    each need their own name."""
    return Table(
        name,
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("processed_at", UTCDateTime(), nullable=False),
    )


async def first_delivery(session: AsyncSession, table: Table, event: Event) -> bool:
    """Record the event as handled in the caller's transaction; False if it was handled before.

    The caller does its effect in the same transaction, so effect and record commit together.
    """
    try:
        async with session.begin_nested():
            await session.execute(insert(table).values(event_id=event.id, processed_at=utcnow()))
    except IntegrityError as exc:
        if is_unique_violation(exc):
            return False
        raise
    return True
