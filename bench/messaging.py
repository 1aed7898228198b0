"""Messaging figures: WebSocket fan-out (issue: messaging; sends are in bench/gateway_sends.py).

(a) and (b) run one realtime replica in this process on real uvicorn with its real hub, fed
through its replay log on Redis (the testbed's, else the embedded one): each event is appended
as `route_event` does after Kafka (from a process of its own when Redis is the testbed's), then
read by `deliver_forever`, dispatched by the hub and written by each session's sender to a real
socket. The WebSocket clients run in a child process (the machine's other core) on the lean
load generator in `bench.ws_load`, so client parsing does not count against the replica.
Tokens are signed by a test key; the channel and workspace services, asked only once per
connection for its memberships, are stood in for by a table. Latency is send-to-receive:
the wall clock at append (in the event) to the wall clock when the client read the frame.
Each part also prints the CPU the replica and the clients used over the run, and the replica's
CPU per delivery: on a machine shared with other work that holds still when the rate does not.
And what a tail waits behind: the longest the replica's event loop was late to wake a 1 ms
sleeper, and its longest garbage collection. Part (b) is also the QuckChat side of the fan-out
in `python -m bench.peers`, beside Centrifugo on the same clients.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection

import httpx
import uvloop

from bench.stats import figure, percentile, rss_mb
from bench.ws_load import QUCKCHAT, Dialect, Tally, connect
from quckchat.core import cache
from quckchat.core.settings import Settings
from quckchat.realtime.audience import Audience
from quckchat.realtime.fanout import stream_of
from quckchat.realtime.stream import STREAM, Stream
from tests.support import TestKeys, load_testbed_env, running_app
from tests.worlds.mesh import serving

CLIENTS = int(os.environ.get("BENCH_WS_CLIENTS", "2000"))
CHANNEL_SIZE = 20
# Under 100: redis-py 8 pools at most 100 connections per client, and every connect asks
# Redis; a larger burst fails in the replica with MaxConnectionsError (see the report).
CONNECT_BATCH = 50
# A database of its own on the testbed's Redis, so the replay log is not a test's.
REDIS_DB = 7
# Seconds the clients may take to receive the rest once the last event was appended.
DRAIN_SECONDS = 60.0


def _membership_transport(channels: dict[str, list[str]]) -> httpx.MockTransport:
    """The channel and workspace services' answers about a user's memberships."""

    def answer(request: httpx.Request) -> httpx.Response:
        user = request.url.path.split("/")[3]
        if request.url.path.endswith("/channels"):
            return httpx.Response(200, json=channels.get(user, []))
        return httpx.Response(200, json=[{"workspace_id": "bench-workspace"}])

    return httpx.MockTransport(answer)


def _redis_url() -> str | None:
    """The testbed's Redis, on a database of its own; None for the embedded one."""
    load_testbed_env()
    redis = os.environ.get("QUCKCHAT_TEST_REDIS_URL")
    return redis.rsplit("/", 1)[0] + f"/{REDIS_DB}" if redis else None


@asynccontextmanager
async def realtime_replica(
    keys: TestKeys, channels: dict[str, list[str]]
) -> AsyncIterator[tuple[int, Stream]]:
    """One realtime replica on a local port, and its replay log."""
    async with AsyncExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory())
        settings = Settings(
            service="realtime",
            redis_url=_redis_url(),
            data_dir=data_dir,
            log_level="WARNING",
            realtime_send_queue=100_000,
        )
        app, _, runtime = await stack.enter_async_context(
            running_app("realtime", settings, keys=keys)
        )
        await runtime.cache.delete(STREAM)
        await runtime.http.client.aclose()
        runtime.http.client = httpx.AsyncClient(transport=_membership_transport(channels))
        port = await stack.enter_async_context(serving(app))
        yield port, stream_of(runtime)


@dataclass
class FanOut:
    """What one fan-out run offered, what arrived, and what it cost the server."""

    name: str
    clients: int
    offered: int
    sent_for: float
    expected: int
    latencies_ms: list[float]
    elapsed: float
    server_cpu: float
    server_kernel: float
    client_cpu: float
    # The server's resident memory before the clients connected, and once they had.
    rss_before_mb: float
    rss_connected_mb: float
    # The longest the server's event loop was held up, and its longest collection (in this
    # process only: None for a server elsewhere).
    loop_stall_ms: float | None = None
    gc_pause_ms: float | None = None

    @property
    def received(self) -> int:
        return len(self.latencies_ms)

    @property
    def kib_per_connection(self) -> float:
        return (self.rss_connected_mb - self.rss_before_mb) * 1024 / self.clients

    @property
    def deliveries_per_cpu_second(self) -> float:
        return self.received / self.server_cpu if self.server_cpu else float("nan")

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p) if self.latencies_ms else float("nan")

    def print(self) -> None:
        name = self.name
        print(
            f"{name}: {self.clients} clients, {self.offered} events at "
            f"{self.offered / self.sent_for:.0f}/s offered, "
            f"{self.received}/{self.expected} frames received"
        )
        figure(f"{name}: deliveries", self.received / self.elapsed, "/s")
        figure(f"{name}: send-to-receive p50", self.percentile(50), "ms")
        figure(f"{name}: send-to-receive p99", self.percentile(99), "ms")
        # Near 100 % for the server means saturated; the clients' share must stay under it.
        # The CPU per delivery holds still when other work on the machine takes its core.
        figure(f"{name}: server CPU", 100 * self.server_cpu / self.elapsed, "% of a core")
        figure(f"{name}: clients' CPU", 100 * self.client_cpu / self.elapsed, "% of a core")
        kernel = (
            f"{100 * self.server_kernel / max(self.server_cpu, 1e-9):.0f} % of it in the kernel"
        )
        per = 1e6 * self.server_cpu / max(self.received, 1)
        figure(f"{name}: server CPU per delivery", per, "us", kernel)
        figure(f"{name}: memory per connection", self.kib_per_connection, "KiB")
        if self.loop_stall_ms is not None:
            figure(f"{name}: longest event-loop stall", self.loop_stall_ms, "ms")
        if self.gc_pause_ms is not None:
            figure(f"{name}: longest garbage collection", self.gc_pause_ms, "ms")


def client_process(sockets: list[tuple[str, Dialect]], expected: int, pipe: Connection) -> None:
    """The clients of a fan-out run, in a process of their own (spawned)."""
    # uvloop here only: the load generator should cost as little of the other core as it can.
    uvloop.run(_clients(sockets, expected, pipe))


async def _clients(sockets: list[tuple[str, Dialect]], expected: int, pipe: Connection) -> None:
    """Connect every client, say so, then time each event frame until all have arrived."""
    tally = Tally(expected)
    transports = []
    for start in range(0, len(sockets), CONNECT_BATCH):
        batch = sockets[start : start + CONNECT_BATCH]
        transports += await asyncio.gather(*(connect(u, tally, d) for u, d in batch))
    pipe.send("connected")
    cpu = time.process_time()
    # Seconds to wait for the rest, once the sender is done; read off the loop, which is busy.
    deadline = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    with suppress(TimeoutError):
        async with asyncio.timeout(deadline):
            await tally.done.wait()
    finished = time.time()
    cpu = time.process_time() - cpu
    for transport in transports:
        transport.abort()
    pipe.send((tally.latencies, finished, cpu))


async def _append_at_rate(
    stream: Stream, channels: list[str], rate: float, count: int, started: float
) -> None:
    """Append `count` events at `rate` a second from `started`, round-robin over the channels.

    Open loop: each append is a task of its own, so a slow answer does not delay the next.
    """
    appends = []
    for i in range(count):
        if (wait := started + i / rate - time.time()) > 0:
            await asyncio.sleep(wait)
        channel = channels[i % len(channels)]
        data = {"channel_id": channel, "t": time.time(), "text": "x" * 64}
        audience = Audience(channel_id=channel)
        append = stream.append(uuid.uuid4().hex, "message.created", data, audience)
        appends.append(asyncio.create_task(append))
    await asyncio.gather(*appends)


def _appender_process(
    url: str, channels: list[str], rate: float, count: int, pipe: Connection
) -> None:
    """Offer the events from a process of their own, as the Kafka consumer would.

    In the replica's process the appends wait on its busy loop, and so would offer fewer
    events than asked exactly when it is saturated.
    """

    async def append() -> None:
        redis = cache.connect(url)
        stream = Stream(redis, Settings(service="realtime").realtime_replay_events)
        await redis.ping()
        pipe.send("ready")
        started = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
        await _append_at_rate(stream, channels, rate, count, started)
        await redis.aclose()
        pipe.send(time.time())

    asyncio.run(append())


class StallWatch:
    """The longest this process's event loop was late to wake a sleeper, and the longest
    garbage collection: what a frame's tail waits behind."""

    TICK = 0.001

    def __init__(self) -> None:
        self.loop_stall = 0.0
        self.gc_pause = 0.0
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pause = max(self.gc_pause, time.perf_counter() - self._gc_started)

    async def _watch(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.TICK)
            self.loop_stall = max(self.loop_stall, time.perf_counter() - before - self.TICK)

    def start(self) -> None:
        self.loop_stall = self.gc_pause = 0.0
        gc.callbacks.append(self._gc)
        self._task = asyncio.create_task(self._watch())

    def stop(self) -> None:
        gc.callbacks.remove(self._gc)
        if self._task is not None:
            self._task.cancel()


async def _fan_out(
    name: str, members: dict[str, list[str]], rate: float, seconds: float, per_event: int
) -> FanOut:
    """Offer `rate` events a second for `seconds`, round-robin over the channels."""
    keys = TestKeys()
    channels = sorted({c for cs in members.values() for c in cs})
    count = int(rate * seconds)
    spawn = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    watch = StallWatch()
    async with realtime_replica(keys, members) as (port, stream):
        rss_before = rss_mb(os.getpid())
        sockets = [
            (f"ws://127.0.0.1:{port}/ws?token={keys.mint(user)}", QUCKCHAT) for user in members
        ]
        clients, child = spawn.Pipe()
        procs = [spawn.Process(target=client_process, args=(sockets, count * per_event, child))]
        procs[0].start()
        # The embedded Redis is only reachable from this process: append here then.
        appender = None
        if (url := _redis_url()) is not None:
            appender, child = spawn.Pipe()
            args = (url, channels, rate, count, child)
            procs.append(spawn.Process(target=_appender_process, args=args))
            procs[1].start()
            await loop.run_in_executor(None, appender.recv)
        await loop.run_in_executor(None, clients.recv)
        rss_connected = rss_mb(os.getpid())
        watch.start()
        started, cpu = time.time(), os.times()
        if appender is None:
            await _append_at_rate(stream, channels, rate, count, started)
            sent_for = time.time() - started
        else:
            appender.send(started)
            sent_for = await loop.run_in_executor(None, appender.recv) - started
        clients.send(DRAIN_SECONDS)
        latencies, finished, client_cpu = await loop.run_in_executor(None, clients.recv)
        done = os.times()
        watch.stop()
        for proc in procs:
            proc.join(30)
    return FanOut(
        name=name,
        clients=len(members),
        offered=count,
        sent_for=sent_for,
        expected=count * per_event,
        latencies_ms=[s * 1000 for s in latencies],
        elapsed=finished - started,
        server_cpu=(done.user - cpu.user) + (done.system - cpu.system),
        server_kernel=done.system - cpu.system,
        client_cpu=client_cpu,
        rss_before_mb=rss_before,
        rss_connected_mb=rss_connected,
        loop_stall_ms=watch.loop_stall * 1000,
        gc_pause_ms=watch.gc_pause * 1000,
    )


async def fan_out_small_channels(rate: float = 1000.0, seconds: float = 10.0) -> None:
    """(a) N clients in channels of 20, one replica."""
    members = {f"u{i}": [f"c{i // CHANNEL_SIZE}"] for i in range(CLIENTS)}
    name = f"(a) channels of {CHANNEL_SIZE}"
    (await _fan_out(name, members, rate, seconds, CHANNEL_SIZE)).print()


async def one_big_channel(rate: float = 30.0, seconds: float = 10.0) -> FanOut:
    """(b) one channel of N members, one replica.

    30 events/s to 2,000 members offers 60,000 deliveries/s, above the issue's 50,000: the
    figure is what the replica keeps up with, not the offer.
    """
    members = {f"u{i}": ["big"] for i in range(CLIENTS)}
    return await _fan_out(f"(b) one channel of {CLIENTS}", members, rate, seconds, CLIENTS)


async def main() -> None:
    await fan_out_small_channels()
    (await one_big_channel()).print()


if __name__ == "__main__":
    asyncio.run(main())
