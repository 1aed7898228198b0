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
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from multiprocessing.connection import Connection

import httpx
import uvloop

from bench.stats import figure, percentile
from bench.ws_load import Tally, connect
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


def _client_process(urls: list[str], expected: int, pipe: Connection) -> None:
    # uvloop here only: the load generator should cost as little of the other core as it can.
    uvloop.run(_clients(urls, expected, pipe))


async def _clients(urls: list[str], expected: int, pipe: Connection) -> None:
    """Connect every client, say so, then time each event frame until all have arrived."""
    tally = Tally(expected)
    transports = []
    for start in range(0, len(urls), CONNECT_BATCH):
        batch = urls[start : start + CONNECT_BATCH]
        transports += await asyncio.gather(*(connect(u, tally) for u in batch))
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


async def _fan_out(
    name: str, members: dict[str, list[str]], rate: float, seconds: float, per_event: int
) -> None:
    """Offer `rate` events a second for `seconds`, round-robin over the channels; print figures."""
    keys = TestKeys()
    channels = sorted({c for cs in members.values() for c in cs})
    count = int(rate * seconds)
    spawn = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    async with realtime_replica(keys, members) as (port, stream):
        urls = [f"ws://127.0.0.1:{port}/ws?token={keys.mint(user)}" for user in members]
        clients, child = spawn.Pipe()
        procs = [spawn.Process(target=_client_process, args=(urls, count * per_event, child))]
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
        replica_user, replica_kernel = done.user - cpu.user, done.system - cpu.system
        for proc in procs:
            proc.join(30)
    received, elapsed = len(latencies), finished - started
    ms = [s * 1000 for s in latencies] or [float("nan")]
    print(
        f"{name}: {len(members)} clients, {count} events at {count / sent_for:.0f}/s offered, "
        f"{received}/{count * per_event} frames received"
    )
    figure(f"{name}: deliveries", received / elapsed, "/s")
    figure(f"{name}: send-to-receive p50", percentile(ms, 50), "ms")
    figure(f"{name}: send-to-receive p99", percentile(ms, 99), "ms")
    # Near 100 % for the replica means saturated; the clients' share must stay under it. The
    # CPU per delivery holds still when other work on the machine takes the replica's core.
    replica_cpu = replica_user + replica_kernel
    figure(f"{name}: replica CPU", 100 * replica_cpu / elapsed, "% of a core")
    figure(f"{name}: clients' CPU", 100 * client_cpu / elapsed, "% of a core")
    kernel = f"{100 * replica_kernel / replica_cpu:.0f} % of it in the kernel"
    figure(f"{name}: replica CPU per delivery", 1e6 * replica_cpu / max(received, 1), "us", kernel)


async def fan_out_small_channels(rate: float = 1000.0, seconds: float = 10.0) -> None:
    """(a) N clients in channels of 20, one replica."""
    members = {f"u{i}": [f"c{i // CHANNEL_SIZE}"] for i in range(CLIENTS)}
    await _fan_out(f"(a) channels of {CHANNEL_SIZE}", members, rate, seconds, CHANNEL_SIZE)


async def fan_out_one_big_channel(rate: float = 30.0, seconds: float = 10.0) -> None:
    """(b) one channel of N members, one replica.

    30 events/s to 2,000 members offers 60,000 deliveries/s, above the issue's 50,000: the
    figure is what the replica keeps up with, not the offer.
    """
    members = {f"u{i}": ["big"] for i in range(CLIENTS)}
    await _fan_out(f"(b) one channel of {CLIENTS}", members, rate, seconds, CLIENTS)


async def main() -> None:
    await fan_out_small_channels()
    await fan_out_one_big_channel()


if __name__ == "__main__":
    asyncio.run(main())
