"""The transactional outbox of the SQL services: an event is stored in the same transaction as
the change it announces, and published only after that transaction commits.

`stage` adds the event's row in the caller's session. When `Database.session()` commits, it
hands the staged events to `Outbox.flush`, which publishes them and deletes their rows. A row
whose publication failed stays, marked; so do the rows committed after it under the same key,
and the `relay` job, nudged, publishes them in order, claimed by one replica at a time. Only
one publisher sends a key's backlog: a request that republished it beside the relay would
interleave the two. Delivery is at least once and in order per key; consumers drop repeats by
event id, which makes it effectively exactly once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from pymongo import ASCENDING
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.mysql import MEDIUMTEXT
from sqlalchemy.ext.asyncio import AsyncSession

from quckchat.core import logging as qlog
from quckchat.core import metrics
from quckchat.core.documents import Index, stored_now
from quckchat.core.events import DomainEvent, Event, EventBus
from quckchat.core.periodic import Periodic, nudge
from quckchat.core.sql import UTCDateTime, new_id, utcnow

if TYPE_CHECKING:
    from quckchat.core.runtime import Runtime
    from quckchat.core.sql import Database

log = qlog.get("outbox")

STAGED = "quckchat.outbox"  # the session.info key of the events staged in a transaction
GRACE = timedelta(seconds=5)  # the committing request publishes first; the relay after this
LEASE = timedelta(seconds=30)  # a relaying replica that died gives its rows back after this
BATCH = 200
RELAY_SECONDS = 2.0
FAILED = "failed"  # the claim of an event whose publication failed: the next to go out


def table_name(module: str) -> str:
    return f"{module}_outbox"


def outbox_table(metadata: MetaData, module: str) -> Table:
    """The outbox a SQL service declares in its models (named per service: databases may be
    shared)."""
    return Table(
        table_name(module),
        metadata,
        # Insertion order: the order events of one key are published in.
        Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("key", String(191), nullable=False, index=True),
        # An envelope may hold a message's text: beyond MySQL's 64 KiB TEXT.
        Column("envelope", Text().with_variant(MEDIUMTEXT(), "mysql", "mariadb"), nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("claim", String(32), nullable=True),
        Column("claimed_until", UTCDateTime(), nullable=True),
    )


def create_outbox_table(module: str) -> None:
    """The migration step that creates a service's outbox as `outbox_table` first declared it
    (a later change to the table takes a migration of its own; this one stays as it is)."""
    from alembic import op

    name = table_name(module)
    op.create_table(
        name,
        Column("seq", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
        Column("event_id", String(64), nullable=False),
        Column("key", String(191), nullable=False),
        Column("envelope", Text().with_variant(MEDIUMTEXT(), "mysql", "mariadb"), nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("claim", String(32), nullable=True),
        Column("claimed_until", UTCDateTime(), nullable=True),
        PrimaryKeyConstraint("seq", name=op.f(f"pk_{name}")),
        UniqueConstraint("event_id", name=op.f(f"uq_{name}_event_id")),
    )
    with op.batch_alter_table(name) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_key"), ["key"], unique=False)


def drop_outbox_table(module: str) -> None:
    """The downgrade of `create_outbox_table`."""
    from alembic import op

    name = table_name(module)
    with op.batch_alter_table(name) as batch_op:
        batch_op.drop_index(batch_op.f(f"ix_{name}_key"))
    op.drop_table(name)


async def stage(session: AsyncSession, table: Table, event: Event) -> None:
    """Store the event in the caller's transaction; it goes out once that commits."""
    await session.execute(
        insert(table).values(
            event_id=event.id,
            key=event.key,
            envelope=event.to_json().decode(),
            created_at=utcnow(),
        )
    )
    session.info.setdefault(STAGED, []).append(event)


class Tenanted(Protocol):
    @property
    def tenant(self) -> str | None: ...


class Describes(Protocol):
    """An event type that describes a stored subject (`Kind.about(row, actor=...)`)."""

    def about(self, subject: Any, /, *, actor: str | None, **fields: object) -> DomainEvent: ...


async def announce(
    session: AsyncSession,
    runtime: Runtime,
    kind: Describes,
    subject: Tenanted,
    *,
    actor: str | None,
    **fields: object,
) -> None:
    """Record the event about `subject` with the session's change (published after commit)."""
    event = kind.about(subject, actor=actor, **fields)
    await runtime.emit(event, tenant=subject.tenant, session=session)


def staged(session: AsyncSession) -> list[Event]:
    """The events staged in the session's transaction (taken: a second call returns none)."""
    events: list[Event] = session.info.pop(STAGED, [])
    return events


class Outbox:
    """One SQL service's outbox table, published on its topic."""

    def __init__(self, db: Database, table: Table, bus: EventBus, topic: str) -> None:
        self.db, self.table, self.bus, self.topic = db, table, bus, topic
        # Runs the relay now rather than at its next tick (set by the runtime that runs it).
        self.wake: Callable[[], None] = lambda: None

    async def after_commit(self, session: AsyncSession) -> None:
        events = staged(session)
        if events:
            await self.flush(events)

    async def flush(self, events: Sequence[Event]) -> None:
        """After a commit: publish the transaction's events, unless an older event of one of
        their keys still waits (failed, or in a relay's hands); then they wait behind it."""
        c = self.table.c
        ids = [e.id for e in events]
        async with self.db.sessions() as session:
            newest = await session.scalar(select(func.max(c.seq)).where(c.event_id.in_(ids)))
            if newest is None:
                return  # the relay sent them already
            waiting = await session.scalar(
                select(c.seq)
                .where(
                    c.key.in_(sorted({e.key for e in events})),
                    c.seq < newest,
                    c.claim.is_not(None),
                )
                .limit(1)
            )
            if waiting is None:
                own = select(c.seq, c.envelope).where(c.event_id.in_(ids)).order_by(c.seq)
                rows = (await session.execute(own)).all()
        if waiting is None:
            await self._publish(rows)
            return
        async with self.db.session() as session:
            await session.execute(
                update(self.table)
                .where(c.event_id.in_(ids), c.claim.is_(None))
                .values(claim=FAILED, claimed_until=None)
            )
        self.wake()

    async def relay(self) -> int:
        """Publish the rows that wait (failed, or past the grace period with no request to
        publish them), claimed by this replica; how many. A key another replica's relay is
        sending is left to it, so that one key never has two publishers."""
        c = self.table.c
        now = utcnow()
        token = new_id()
        unclaimed = or_(c.claimed_until.is_(None), c.claimed_until < now)
        async with self.db.session() as session:
            busy = select(c.key).where(c.claimed_until >= now)
            candidates = (
                await session.scalars(
                    select(c.seq)
                    .where(
                        or_(c.created_at <= now - GRACE, c.claim == FAILED),
                        unclaimed,
                        c.key.not_in(busy),
                    )
                    .order_by(c.seq)
                    .limit(BATCH)
                )
            ).all()
            if not candidates:
                return 0
            await session.execute(
                update(self.table)
                .where(c.seq.in_(candidates), unclaimed)
                .values(claim=token, claimed_until=now + LEASE)
            )
        async with self.db.sessions() as session:
            rows = (
                await session.execute(
                    select(self.table.c.seq, self.table.c.envelope)
                    .where(self.table.c.claim == token)
                    .order_by(self.table.c.seq)
                )
            ).all()
        return await self._publish(rows)

    async def _publish(self, rows: Sequence[Any]) -> int:
        """Publish rows in order, deleting those sent; stop at the first failure (order), and
        mark what is left failed: the next commit of its key sends it first, the relay soon."""
        sent: list[int] = []
        try:
            for seq, envelope in rows:
                event = Event.from_json(envelope.encode())
                await self.bus.publish(self.topic, event)
                metrics.EVENTS_PUBLISHED.labels(event.source, event.type).inc()
                sent.append(seq)
        except Exception as exc:  # stored: the relay publishes what is left
            log.warning("%d events wait in the outbox: %s", len(rows) - len(sent), exc)
            left = [seq for seq, _ in rows[len(sent) :]]
            async with self.db.session() as session:
                await session.execute(
                    update(self.table)
                    .where(self.table.c.seq.in_(left))
                    .values(claim=FAILED, claimed_until=None)
                )
        if sent:
            async with self.db.session() as session:
                await session.execute(delete(self.table).where(self.table.c.seq.in_(sent)))
        return len(sent)

    async def pending(self) -> int:
        """Rows not yet published (for tests and the health of the pipeline)."""
        async with self.db.sessions() as session:
            return len((await session.scalars(select(self.table.c.seq))).all())


async def publish_waiting(runtime: Runtime) -> int:
    """The relay step: what the committing requests could not publish."""
    return 0 if runtime.outbox is None else await runtime.outbox.relay()


RELAY = Periodic("outbox relay", RELAY_SECONDS, (publish_waiting,))


# The document services' outbox. FerretDB has no multi-document transactions, so the document
# that records a change is its own outbox entry: written unpublished, published after the
# write, then marked; the relay publishes what stays unpublished past the grace period.

EventsOf = Callable[["Runtime", dict[str, Any]], Awaitable[Sequence[tuple[str, DomainEvent]]]]
DocumentStep = Callable[["Runtime", dict[str, Any]], Awaitable[Any]]
FAILED_FIELD = "outbox_failed"


async def _mark_published(runtime: Runtime, collection: str, doc: dict[str, Any]) -> None:
    await runtime.document_db[collection].update_one(
        {"_id": doc["_id"]}, {"$set": {"published": True}}
    )


@dataclass(frozen=True)
class DocumentOutbox:
    """Documents of `collection` matching `pending` announce `events_of(doc)` (each with its
    event id, the same on every try) once written. With `key`/`order`, an older pending
    document of the same key whose publication failed goes out first, so one key's events
    keep their order through a broker outage."""

    name: str
    collection: str
    events_of: EventsOf
    pending: Mapping[str, Any] = field(default_factory=lambda: {"published": False})
    since: str = "created_at"  # a pending document this old is the relay's
    key: str | None = None
    order: str | None = None
    # Whether this replica relays the document (a claim one replica wins); default: any.
    claim: DocumentStep | None = None
    # Marks the document's events out; default: `published: true`.
    done: DocumentStep | None = None
    # Gives back the claim of a document whose publication failed, for the next relay.
    release: DocumentStep | None = None

    @property
    def job(self) -> Periodic:
        return Periodic(self.name, RELAY_SECONDS, (self.relay,))

    def indexes(self) -> tuple[Index, ...]:
        pending = tuple((f, ASCENDING) for f in self.pending)
        made = [Index(self.collection, (*pending, (self.since, ASCENDING)))]
        if self.key is not None and self.order is not None:
            failed = (FAILED_FIELD, ASCENDING)
            keyed = ((self.key, ASCENDING), *pending, failed, (self.order, ASCENDING))
            made.append(Index(self.collection, keyed))
        return tuple(made)

    async def publish(self, runtime: Runtime, doc: dict[str, Any]) -> bool:
        """After the write: announce the document; False, and left to the relay, when it could
        not go out now.

        Only its document: when an older one of its key still waits, this one is flagged to
        wait behind it and the relay is nudged, because a writer and the relay both sending one
        backlog would interleave it. The relay claims each document before it sends it, oldest
        first, after the older waiting ones of its key: a relay that finds one held by another
        replica stops there, so relays send nothing twice and nothing out of order. A failed
        try of the relay gives its claim back."""
        due = await self._due_with(runtime, doc)
        if len(due) > 1:
            await self._mark_failed(runtime, [doc])
            nudge(runtime, self.job)
            return False
        # As the writer holds it (the store may keep its times less precisely).
        _, complete = await self._send(runtime, [doc], claim_own=False)
        return complete

    async def _send(
        self, runtime: Runtime, due: list[dict[str, Any]], *, claim_own: bool
    ) -> tuple[int, bool]:
        """Announce `due` in order: how many went out, and whether all did."""
        for n, item in enumerate(due):
            if claim_own and self.claim is not None and not await self.claim(runtime, item):
                return n, False
            try:
                for event_id, event in await self.events_of(runtime, item):
                    await runtime.emit(event, tenant=item.get("tenant"), event_id=event_id)
            except Exception as exc:  # stored: the relay publishes it
                log.warning("%s %s waits in the outbox: %s", self.collection, item["_id"], exc)
                await self._mark_failed(runtime, due[n:])
                if claim_own and self.release is not None:
                    await self.release(runtime, item)
                return n, False
            if self.done is not None:
                await self.done(runtime, item)
            else:
                await _mark_published(runtime, self.collection, item)
        return len(due), True

    async def _mark_failed(self, runtime: Runtime, docs: list[dict[str, Any]]) -> None:
        """Flag documents whose events could not go out: the next of their key sends them
        first (documents merely in flight at that moment are left to their own writers).
        Without a key there is no order to keep, and nothing to flag."""
        if self.key is None or self.order is None or not docs:
            return
        try:
            await runtime.document_db[self.collection].update_many(
                {"_id": {"$in": [d["_id"] for d in docs]}}, {"$set": {FAILED_FIELD: True}}
            )
        except Exception:  # the store away too: the relay still finds them pending
            log.warning("%s: %d failed publications not recorded", self.collection, len(docs))

    async def _due_with(self, runtime: Runtime, doc: dict[str, Any]) -> list[dict[str, Any]]:
        """The document, if still pending, after the older ones of its key whose publication
        failed, in order (read now: a relay's list may be older than another's work)."""
        if self.key is None or self.order is None:
            return [doc]
        query = {
            **self.pending,
            self.key: doc[self.key],
            "$or": [
                {FAILED_FIELD: True, self.order: {"$lt": doc[self.order]}},
                {"_id": doc["_id"]},
            ],
        }
        cursor = runtime.document_db[self.collection].find(query).sort(self.order, ASCENDING)
        due: list[dict[str, Any]] = await cursor.to_list(BATCH)
        return due

    async def relay(self, runtime: Runtime) -> int:
        """Publish the documents that wait (flagged failed, or pending past the grace period
        with no writer to send them), oldest first; how many. With a key to keep in order, the
        round ends at the first that cannot go out now (the broker away, or another replica
        sending that key)."""
        late: dict[str, Any] = {self.since: {"$lte": utcnow() - GRACE}}
        waiting = {"$or": [late, {FAILED_FIELD: True}]} if self.key is not None else late
        query = {**self.pending, **waiting}
        cursor = runtime.document_db[self.collection].find(query).sort(self.since, ASCENDING)
        handled = 0
        for doc in await cursor.to_list(BATCH):
            due = await self._due_with(runtime, doc)
            sent, complete = await self._send(runtime, due, claim_own=True)
            handled += sent
            if not complete and self.key is not None:
                break
        return handled


# A collection of documents that move from state to state, each move announcing the event of
# the new state: built once here, so every such service ids, marks and moves them alike.

StateEvent = Callable[[dict[str, Any]], DomainEvent | None]


def state_outbox(
    name: str, collection: str, event_of: StateEvent, *, prefix: str
) -> DocumentOutbox:
    """The outbox of documents with a `state` and a `changed_at`: each state they are moved to
    (`move_state`) announces `event_of(doc)` (None: nothing), under an id of that change."""

    async def events(runtime: Runtime, doc: dict[str, Any]) -> Sequence[tuple[str, DomainEvent]]:
        event = event_of(doc)
        # The change's own id: a state reached twice (a deletion finished again) is a new event.
        change = int(doc["changed_at"].timestamp() * 1000)
        return [] if event is None else [(f"{prefix}.{doc['_id']}.{doc['state']}.{change}", event)]

    async def settle(runtime: Runtime, doc: dict[str, Any]) -> None:
        # Only the state announced: a newer one written meanwhile is still to go out.
        await runtime.document_db[collection].update_one(
            {"_id": doc["_id"], "state": doc["state"]}, {"$set": {"published": True}}
        )

    return DocumentOutbox(name, collection, events, since="changed_at", done=settle)


async def move_state(
    runtime: Runtime, outbox: DocumentOutbox, doc: dict[str, Any], to: str, **fields: Any
) -> dict[str, Any] | None:
    """Move the document from the state it was read in to `to` and announce it; None when
    another writer moved it first."""
    changed = {**fields, "state": to, "published": False, "changed_at": stored_now()}
    written = await runtime.document_db[outbox.collection].update_one(
        {"_id": doc["_id"], "state": doc["state"]}, {"$set": changed}
    )
    if not written.matched_count:
        return None
    moved = {**doc, **changed}
    await outbox.publish(runtime, moved)
    return moved
