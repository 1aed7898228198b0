"""Notification figures (issue 13): orchestrator decisions per second, and mention-to-push.

Both run the real services in this process on the test bed's servers: the orchestrator on real
Kafka and FerretDB, the notification service on real Kafka and PostgreSQL with the real FCM
client pushing to the local FCM fake (`tests.worlds.push`). Their callees (channel, user and
presence) are stood in for by a table answering the same internal routes, so a figure is the
replica's own cost, not the callees': every answer still goes through the callee's client.

(1) Decisions per second per orchestrator replica: messages with 50 mentions each into a
channel of 1,000 members, published to Kafka at once; the clock runs from the first publish to
the last notice stored and announced. CPU-seconds per decision are this process's (the one
replica) over that window.
(2) Mention-to-push under 200 messages/s: each message mentions one member of a small channel,
offered open loop at a fixed rate; the latency is from the message event's publication to the
push's arrival at the FCM fake, and every push must arrive exactly once.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient
from sqlalchemy import select

from bench.stats import figure, percentile
from quckchat.core.events import KafkaBus
from quckchat.core.runtime import Runtime
from quckchat.core.settings import Settings
from quckchat.core.sql import Database
from quckchat.notification.models import Notice
from quckchat.notification_orchestrator.store import NOTICES
from tests.notification_orchestrator.conftest import CREATED, change, message
from tests.support import fresh_database, fresh_documents, load_testbed_env, running_app
from tests.worlds.push import fake_fcm

ORCHESTRATOR = "notification-orchestrator"
WORKSPACE = "bench-workspace"
# Senders take turns, as in a busy channel (each one's settings answers are kept apart).
SENDERS = 10
BIG_CHANNEL, MENTIONS = 1000, 50
SMALL_CHANNEL = 20
# Seconds the orchestrator may take over the decisions of (1) once all are published.
DRAIN_SECONDS = 300.0
# (2) waits for pushes while they keep coming, and this long after the last one.
STALL_SECONDS = 10.0


def _callees(channels: dict[str, list[str]]) -> httpx.MockTransport:
    """The channel, user and presence services' internal answers: members (none muted), no
    settings (the defaults), nobody blocked, everyone offline, one Android phone each."""

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/notify-view"):
            channel = path.split("/")[3]
            members = [{"user_id": u, "muted": False} for u in channels[channel]]
            body: Any = {
                "channel_id": channel,
                "workspace_id": WORKSPACE,
                "kind": "public",
                "name": channel,
                "members": members,
            }
        elif path == "/internal/users/notify-settings":
            body = {"users": {}, "blockers": []}
        elif path == "/internal/presence/query":
            asked = json.loads(request.content)["user_ids"]
            body = [{"user_id": u, "status": "offline"} for u in asked]
        elif path.endswith("/devices"):
            user = path.split("/")[3]
            body = [
                {
                    "device_id": f"phone-{user}",
                    "platform": "android",
                    "app_version": None,
                    "push_token": f"token-{user}",
                    "created_at": "2026-01-01T00:00:00+00:00",
                    "updated_at": "2026-01-01T00:00:00+00:00",
                }
            ]
        else:
            return httpx.Response(404, json={"title": f"no stand-in for {path}"})
        return httpx.Response(200, json=body)

    return httpx.MockTransport(answer)


def _settings(service: str, data_dir: Path, prefix: str, **more: Any) -> Settings:
    return Settings(
        service=service,
        data_dir=data_dir,
        kafka_bootstrap=os.environ["QUCKCHAT_TEST_KAFKA_BOOTSTRAP"],
        kafka_topic_prefix=prefix,
        log_level="WARNING",
        **more,
    )


@asynccontextmanager
async def replica(
    service: str, settings: Settings, channels: dict[str, list[str]]
) -> AsyncIterator[Runtime]:
    """One replica of `service`, its callees answered by the table."""
    async with running_app(service, settings) as (_, _, runtime):
        await runtime.http.client.aclose()
        runtime.http.client = httpx.AsyncClient(transport=_callees(channels))
        yield runtime


def _replica_process(
    service: str, settings: dict[str, Any], channels: dict[str, list[str]], pipe: Connection
) -> None:
    """Run one replica in a process of its own (its own core and loop, as in a pod) until told."""

    async def run() -> None:
        async with replica(service, Settings(**settings), channels):
            pipe.send("ready")
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)

    asyncio.run(run())


@asynccontextmanager
async def replica_process(
    service: str, settings: Settings, channels: dict[str, list[str]]
) -> AsyncIterator[None]:
    spawn = multiprocessing.get_context("spawn")
    pipe, child = spawn.Pipe()
    args = (service, settings.model_dump(), channels, child)
    process = spawn.Process(target=_replica_process, args=args)
    process.start()
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, pipe.recv)
        yield
    finally:
        pipe.send("stop")
        await loop.run_in_executor(None, process.join, 30)


def _mentioning(channel: str, sender: str, mentioned: list[str]) -> tuple[str, Any]:
    """A message.created event naming `mentioned`; its message id."""
    text = " ".join(f"<@{u}>" for u in mentioned) + " please look"
    body = message(channel, WORKSPACE, sender, text=text, mentions=mentioned)
    return body["id"], change(CREATED, body, sender)


async def _producer(prefix: str) -> KafkaBus:
    bus = KafkaBus(
        os.environ["QUCKCHAT_TEST_KAFKA_BOOTSTRAP"], client_id="bench-producer", prefix=prefix
    )
    await bus.start()
    return bus


async def _announced(runtime: Runtime) -> int:
    return int(await runtime.document_db[NOTICES].count_documents({"published": True}))


async def decisions_per_replica(messages: int = 40, warmup: int = 4) -> None:
    """(1) One orchestrator replica, a channel of 1,000, 50 mentions a message."""
    load_testbed_env()
    members = [f"u{i}" for i in range(BIG_CHANNEL)]
    senders, rest = members[:SENDERS], members[SENDERS:]
    channels = {"big": members}
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    async with AsyncExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        documents = await stack.enter_async_context(fresh_documents("mongodb"))
        settings = _settings(ORCHESTRATOR, data_dir, prefix, mongodb_url=documents)
        runtime = await stack.enter_async_context(replica(ORCHESTRATOR, settings, channels))
        producer = await _producer(prefix)
        stack.push_async_callback(producer.stop)
        done = 0
        for phase, count in (("warm-up", warmup), ("measured", messages)):
            events = []
            for i in range(count):
                start = (done + i) * MENTIONS % len(rest)
                mentioned = (rest * 2)[start : start + MENTIONS]
                events.append(_mentioning("big", senders[i % SENDERS], mentioned)[1])
            expected = (done + count) * MENTIONS
            cpu, started = os.times(), time.perf_counter()
            for event in events:
                await producer.publish("quckchat.message", event)
            deadline = started + DRAIN_SECONDS
            while (stored := await _announced(runtime)) < expected:
                if time.perf_counter() > deadline:
                    break
                await asyncio.sleep(0.05)
            elapsed, used = time.perf_counter() - started, os.times()
            done += count
            if phase == "warm-up":
                continue
            decisions = stored - (done - count) * MENTIONS
            seconds = used.user - cpu.user + used.system - cpu.system
            print(
                f"(1) {count} messages x {MENTIONS} mentions into a channel of {BIG_CHANNEL}: "
                f"{decisions}/{count * MENTIONS} notices stored and announced in {elapsed:.1f} s"
            )
            figure("(1) decisions per replica", decisions / elapsed, "/s")
            figure("(1) messages per replica", decisions / MENTIONS / elapsed, "/s")
            figure("(1) replica CPU per decision", 1000 * seconds / max(decisions, 1), "ms")
            figure("(1) replica CPU", 100 * seconds / elapsed, "% of a core")


class Stamped(list[dict[str, Any]]):
    """The FCM fake's received messages, each with the wall clock of its arrival; `all` is set
    once `expected` have come, `arrived` at each one."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.at: list[float] = []
        self.expected = expected
        self.all = asyncio.Event()
        self.arrived = asyncio.Event()

    def append(self, item: dict[str, Any]) -> None:
        self.at.append(time.time())
        super().append(item)
        self.arrived.set()
        if len(self) >= self.expected:
            self.all.set()


async def _offer(
    producer: KafkaBus, events: list[tuple[str, Any]], rate: float, sent: dict[str, float]
) -> float:
    """Publish each event at its time, open loop; the rate actually offered."""
    started = time.time()
    tasks = []
    for i, (message_id, event) in enumerate(events):
        if (wait := started + i / rate - time.time()) > 0:
            await asyncio.sleep(wait)
        sent[message_id] = time.time()
        tasks.append(asyncio.create_task(producer.publish("quckchat.message", event)))
    await asyncio.gather(*tasks)
    return len(events) / max(time.time() - started, 1e-9)


async def _arrived(pushes: Stamped) -> None:
    """Until every push came, or none came for STALL_SECONDS (a backlog still drains); then a
    while longer, for a duplicate to show."""
    while not pushes.all.is_set():
        pushes.arrived.clear()
        try:
            await asyncio.wait_for(pushes.arrived.wait(), STALL_SECONDS)
        except TimeoutError:
            break
    await asyncio.sleep(2.0)


async def _stored_at(documents: str, database: str) -> tuple[dict[str, float], dict[str, float]]:
    """When each message's notice was decided (the orchestrator's store) and taken in (the
    notification service's), by message id."""
    client: Any = AsyncMongoClient(documents)
    try:
        cursor = client.get_default_database()[NOTICES].find({}, {"message_id": 1, "created_at": 1})
        decided = {
            d["message_id"]: d["created_at"].replace(tzinfo=UTC).timestamp() async for d in cursor
        }
    finally:
        await client.close()
    db = Database(database)
    try:
        async with db.session() as session:
            rows = (await session.execute(select(Notice.message_id, Notice.created_at))).all()
    finally:
        await db.engine.dispose()
    return decided, {m: at.timestamp() for m, at in rows if m is not None}


def _hop(name: str, since: dict[str, float], until: dict[str, float]) -> None:
    ms = [1000 * (until[m] - t) for m, t in since.items() if m in until] or [float("nan")]
    figure(f"{name} p50", percentile(ms, 50), "ms")
    figure(f"{name} p99", percentile(ms, 99), "ms")


async def mention_to_push(rate: float = 200.0, seconds: float = 10.0) -> None:
    """(2) Messages with one mention at `rate` a second through orchestrator, notification
    service and the real FCM client, to the FCM fake."""
    load_testbed_env()
    members = [f"m{i}" for i in range(SMALL_CHANNEL)]
    channels = {"small": members}
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    count = int(rate * seconds)
    async with AsyncExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        fcm = await stack.enter_async_context(fake_fcm(data_dir))
        fcm.messages = warm_up = Stamped(1)
        documents = await stack.enter_async_context(fresh_documents("mongodb"))
        assert documents is not None  # the real server's, never the embedded store
        database = await stack.enter_async_context(fresh_database("postgres", data_dir))
        orchestrator = _settings(ORCHESTRATOR, data_dir, prefix, mongodb_url=documents)
        notification = _settings(
            "notification",
            data_dir,
            prefix,
            database_url=database,
            fcm_credentials_file=str(fcm.key_file()),
            fcm_project_id=fcm.project,
            fcm_endpoint=fcm.origin,
        )
        await stack.enter_async_context(replica_process(ORCHESTRATOR, orchestrator, channels))
        await stack.enter_async_context(replica_process("notification", notification, channels))
        producer = await _producer(prefix)
        stack.push_async_callback(producer.stop)
        # One message first: the consumers have joined, the FCM token is fetched.
        await producer.publish(
            "quckchat.message", _mentioning("small", members[0], members[1:2])[1]
        )
        await _arrived(warm_up)
        fcm.messages = pushes = Stamped(count)
        events = [
            _mentioning("small", members[i % SMALL_CHANNEL], [members[(i + 1) % SMALL_CHANNEL]])
            for i in range(count)
        ]
        sent: dict[str, float] = {}
        offered = await _offer(producer, events, rate, sent)
        await _arrived(pushes)
        decided, taken = await _stored_at(documents, database)
    told = Counter((m["data"]["message_id"], m["token"]) for m in pushes)
    latencies = [
        1000 * (at - sent[m["data"]["message_id"]])
        for m, at in zip(pushes, pushes.at, strict=True)
        if m["data"]["message_id"] in sent
    ]
    once = len(told) == count and set(told.values()) == {1}
    twice = sum(1 for n in told.values() if n > 1)
    name = f"(2) {rate:.0f}/s"
    print(
        f"{name}: {count} messages with a mention, {offered:.0f}/s offered: {len(told)}/{count} "
        f"pushes arrived, {count - len(told)} missing, {twice} more than once; "
        f"every push exactly once: {once}"
    )
    ms = latencies or [float("nan")]
    figure(f"{name} mention-to-push p50", percentile(ms, 50), "ms")
    figure(f"{name} mention-to-push p99", percentile(ms, 99), "ms")
    figure(f"{name} mention-to-push max", max(ms), "ms")
    if pushes.at:
        carried = len(pushes) / max(max(pushes.at) - min(sent.values()), 1e-9)
        figure(f"{name} pushes carried", carried, "/s", "(first message sent to last push)")
    arrived = {m["data"]["message_id"]: at for m, at in zip(pushes, pushes.at, strict=True)}
    _hop(f"{name} event to decided", sent, decided)
    _hop(f"{name} decided to taken in", decided, taken)
    _hop(f"{name} taken in to push", taken, arrived)


async def main() -> None:
    await decisions_per_replica()
    await mention_to_push(rate=200.0)
    # A rate one replica of each keeps up with: the pipeline's latency without a backlog.
    await mention_to_push(rate=20.0)


if __name__ == "__main__":
    asyncio.run(main())
