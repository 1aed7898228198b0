"""Messaging figures: WebSocket fan-out and message sends through the gateway (issue: messaging).

(a) and (b) run one realtime replica in this process on real uvicorn with its real hub, fed
through its replay log on Redis (the testbed's, else the embedded one): each event is appended
as `route_event` does after Kafka, then read by `deliver_forever`, dispatched by the hub and
written by each session's sender to a real socket. The WebSocket clients run in a child
process (the machine's other core), so client parsing does not count against the replica.
Tokens are signed by a test key; the channel and workspace services, asked only once per
connection for its memberships, are stood in for by a table. Latency is send-to-receive:
the wall clock at append (in the event) to the wall clock when the client parsed the frame.

(c) starts `quckchat run` (every service in one process, embedded stores, in-process bus) and
posts messages through the gateway at a fixed offered rate, open loop; every send is stored
before its 201, and the channel service's `last_seq` (moved by the `message.created` events
it consumes) shows they were published.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from multiprocessing.connection import Connection
from typing import Any

import httpx
import websockets
from httpx_aiohttp import AiohttpTransport

from bench.identity import GATEWAY, start_platform
from bench.stats import figure, percentile
from quckchat.core.settings import Settings
from quckchat.realtime.audience import Audience
from quckchat.realtime.fanout import stream_of
from quckchat.realtime.stream import STREAM, Stream
from tests.mesh import serving
from tests.support import TestKeys, load_testbed_env, running_app

CLIENTS = int(os.environ.get("BENCH_WS_CLIENTS", "2000"))
CHANNEL_SIZE = 20
# Under 100: redis-py 8 pools at most 100 connections per client, and every connect asks
# Redis; a larger burst fails in the replica with MaxConnectionsError (see the report).
CONNECT_BATCH = 50
# A database of its own on the testbed's Redis, so the replay log is not a test's.
REDIS_DB = 7


def _membership_transport(channels: dict[str, list[str]]) -> httpx.MockTransport:
    """The channel and workspace services' answers about a user's memberships."""

    def answer(request: httpx.Request) -> httpx.Response:
        user = request.url.path.split("/")[3]
        if request.url.path.endswith("/channels"):
            return httpx.Response(200, json=channels.get(user, []))
        return httpx.Response(200, json=[{"workspace_id": "bench-workspace"}])

    return httpx.MockTransport(answer)


@asynccontextmanager
async def realtime_replica(
    keys: TestKeys, channels: dict[str, list[str]]
) -> AsyncIterator[tuple[int, Stream]]:
    """One realtime replica on a local port, and its replay log."""
    load_testbed_env()
    redis = os.environ.get("QUCKCHAT_TEST_REDIS_URL")
    async with AsyncExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory())
        settings = Settings(
            service="realtime",
            redis_url=redis.rsplit("/", 1)[0] + f"/{REDIS_DB}" if redis else None,
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
    asyncio.run(_clients(urls, expected, pipe))


async def _clients(urls: list[str], expected: int, pipe: Connection) -> None:
    """Connect every client, say so, then time each event frame until all have arrived."""
    latencies: list[float] = []
    done = asyncio.Event()

    async def connect(url: str) -> Any:
        socket = await websockets.connect(url, max_queue=None)
        await socket.recv()  # hello
        return socket

    async def read(socket: Any) -> None:
        async for text in socket:
            if text.startswith('{"id"'):
                latencies.append(time.time() - json.loads(text)["data"]["t"])
                if len(latencies) >= expected:
                    done.set()

    sockets = []
    for start in range(0, len(urls), CONNECT_BATCH):
        sockets += await asyncio.gather(*(connect(u) for u in urls[start : start + CONNECT_BATCH]))
    readers = [asyncio.create_task(read(s)) for s in sockets]
    pipe.send("connected")
    # Seconds to wait for the rest, once the sender is done; read off the loop, which is busy.
    deadline = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    try:
        async with asyncio.timeout(deadline):
            await done.wait()
    except TimeoutError:
        pass
    finished = time.time()
    for task in readers:
        task.cancel()
    pipe.send((latencies, finished))


async def _fan_out(
    name: str, members: dict[str, list[str]], rate: float, seconds: float, per_event: int
) -> None:
    """Send `rate` events a second for `seconds`, round-robin over the channels; print figures."""
    keys = TestKeys()
    channels = sorted({c for cs in members.values() for c in cs})
    async with realtime_replica(keys, members) as (port, stream):
        urls = [f"ws://127.0.0.1:{port}/ws?token={keys.mint(user)}" for user in members]
        count = int(rate * seconds)
        parent, child = multiprocessing.get_context("spawn").Pipe()
        proc = multiprocessing.get_context("spawn").Process(
            target=_client_process, args=(urls, count * per_event, child)
        )
        proc.start()
        ready = asyncio.get_running_loop().run_in_executor(None, parent.recv)
        await ready
        started = time.time()
        for i in range(count):
            due = started + i / rate
            if (wait := due - time.time()) > 0:
                await asyncio.sleep(wait)
            channel = channels[i % len(channels)]
            data = {"channel_id": channel, "t": time.time(), "text": "x" * 64}
            await stream.append(
                uuid.uuid4().hex, "message.created", data, Audience(channel_id=channel)
            )
        sent_for = time.time() - started
        parent.send(30.0)
        latencies, finished = await asyncio.get_running_loop().run_in_executor(None, parent.recv)
        proc.join(30)
    received = len(latencies)
    ms = [s * 1000 for s in latencies] or [float("nan")]
    print(
        f"{name}: {len(members)} clients, {count} events at {count / sent_for:.0f}/s offered, "
        f"{received}/{count * per_event} frames received"
    )
    figure(f"{name}: deliveries", received / (finished - started), "/s")
    figure(f"{name}: send-to-receive p50", percentile(ms, 50), "ms")
    figure(f"{name}: send-to-receive p99", percentile(ms, 99), "ms")


async def fan_out_small_channels(rate: float = 1000.0, seconds: float = 10.0) -> None:
    """(a) N clients in channels of 20, one replica."""
    members = {f"u{i}": [f"c{i // CHANNEL_SIZE}"] for i in range(CLIENTS)}
    await _fan_out(f"(a) channels of {CHANNEL_SIZE}", members, rate, seconds, CHANNEL_SIZE)


async def fan_out_one_big_channel(rate: float = 10.0, seconds: float = 10.0) -> None:
    """(b) one channel of N members, one replica."""
    members = {f"u{i}": ["big"] for i in range(CLIENTS)}
    await _fan_out(f"(b) one channel of {CLIENTS}", members, rate, seconds, CLIENTS)


async def sends_through_gateway(rate: float = 40.0, seconds: float = 20.0) -> None:
    """(c) POST /api/v1/messages at a fixed offered rate against `quckchat run`."""
    with tempfile.TemporaryDirectory() as data_dir:
        proc, _ = start_platform(data_dir)
        try:
            async with httpx.AsyncClient(timeout=30, transport=AiohttpTransport()) as client:
                await _send_at_rate(client, rate, seconds)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)


async def _send_at_rate(client: httpx.AsyncClient, rate: float, seconds: float) -> None:
    api = f"{GATEWAY}/api/v1"
    user = {"email": f"m-{uuid.uuid4().hex[:8]}@example.com", "password": "benchmark password"}
    tokens = (await client.post(f"{api}/auth/register", json=user)).raise_for_status().json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    workspace = (
        (await client.post(f"{api}/workspaces", json={"name": "Bench"}, headers=auth))
        .raise_for_status()
        .json()
    )
    listed = await client.get(
        f"{api}/channels", params={"workspace_id": workspace["id"]}, headers=auth
    )
    channel = next(c for c in listed.raise_for_status().json()["items"] if c["name"] == "general")
    body = {"channel_id": channel["id"], "text": "x" * 64}
    for _ in range(20):  # warm-up: caches, connections
        (await client.post(f"{api}/messages", json=body, headers=auth)).raise_for_status()

    latencies: list[float] = []
    failures = 0

    async def one() -> None:
        nonlocal failures
        begun = time.perf_counter()
        response = await client.post(f"{api}/messages", json=body, headers=auth)
        latencies.append((time.perf_counter() - begun) * 1000)
        failures += response.status_code != 201

    count = int(rate * seconds)
    started = time.perf_counter()
    tasks = []
    for i in range(count):
        if (wait := started + i / rate - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    published = await _published(client, api, auth, channel["id"], count + 20)
    print(f"(c) sends through the gateway: {count} at {rate:.0f}/s offered, {failures} failed")
    figure("(c) messages stored", (count - failures) / elapsed, "/s")
    figure("(c) send p50", percentile(latencies, 50), "ms")
    figure("(c) send p99", percentile(latencies, 99), "ms")
    figure("(c) published (channel last_seq)", published, "msgs", f"of {count + 20} sent")


async def _published(
    client: httpx.AsyncClient, api: str, auth: dict[str, str], channel_id: str, want: int
) -> int:
    """The channel's last seq once it reaches `want` (or after 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        found = await client.get(f"{api}/channels/{channel_id}", headers=auth)
        last: int = found.raise_for_status().json()["last_seq"]
        if last >= want or time.monotonic() > deadline:
            return last
        await asyncio.sleep(0.2)


async def main() -> None:
    await fan_out_small_channels()
    await fan_out_one_big_channel()
    await sends_through_gateway()


if __name__ == "__main__":
    asyncio.run(main())
