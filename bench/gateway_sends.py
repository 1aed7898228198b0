"""Message sends through the gateway, stored and published, on the deployment's shape.

Every implemented service runs as its own `quckchat serve` process (as each runs in its own
pod), on the testbed's real servers: identity and the organization services on MariaDB, the
gateway on PostgreSQL, messages on FerretDB, events on Kafka, Redis, Elasticsearch. Their
databases are this run's own (tests/worlds/platform.py) and are dropped afterwards.

One user sends to 20 channels of a workspace in turn, over HTTP/1.1 keep-alive connections to
the gateway, which checks the token and the rate limit, then proxies to the message service; a
201 means the message is stored (with its seq) and in the outbox. The channels' `last_seq`,
moved by the `message.created` events the channel service consumes from Kafka, shows they were
published.

  (d) saturation: a fixed number of sends kept in flight, closed loop: messages/s, latency,
      and the CPU each service spent per message (what bounds the rate on 2 cores);
  (e) a fixed offered rate, open loop (the issue's 1,000/s, or half of what (d) reached where
      that is beyond the machine, which is then said): latency p50/p99.

`python -m bench.gateway_sends [SENDS] [IN_FLIGHT] [RATE]`; 20 channels take the sends in turn.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

import httpx
from httpx_aiohttp import AiohttpTransport

from bench.platform import bench_platform
from bench.stats import cpu_seconds, figure, percentile

PORT_OFFSET = 14000
REDIS_DB = 8
WARM_UP = 50
# Seconds for the slowest consumers to finish once the channels' seqs are all moved.
SETTLE_SECONDS = 3.0


class Sender:
    """One signed-in user who sends, round-robin, to the channels of their workspace."""

    def __init__(self, client: httpx.AsyncClient, api: str) -> None:
        self.client, self.api = client, api
        self.auth: dict[str, str] = {}
        self.channels: list[str] = []
        self.sent = 0

    async def sign_up(self, channels: int) -> None:
        user = {"email": f"b-{uuid.uuid4().hex[:8]}@example.com", "password": "bench password"}
        registered = await self.client.post(f"{self.api}/auth/register", json=user)
        token = registered.raise_for_status().json()["access_token"]
        self.auth = {"Authorization": f"Bearer {token}"}
        made = await self.client.post(
            f"{self.api}/workspaces", json={"name": "Bench"}, headers=self.auth
        )
        workspace_id = made.raise_for_status().json()["id"]
        for i in range(channels):
            body = {"workspace_id": workspace_id, "name": f"bench-{i}"}
            made = await self.client.post(f"{self.api}/channels", json=body, headers=self.auth)
            self.channels.append(made.raise_for_status().json()["id"])
        for _ in range(WARM_UP):  # caches and pooled connections on every hop
            _, ok = await self.send()
            assert ok, "a warm-up send failed; see the services' logs"

    async def send(self) -> tuple[float, bool]:
        """One send's latency in ms, and whether it was stored (201)."""
        channel_id = self.channels[self.sent % len(self.channels)]
        self.sent += 1
        body = {"channel_id": channel_id, "text": "x" * 64, "client_id": uuid.uuid4().hex}
        begun = time.perf_counter()
        try:
            response = await self.client.post(f"{self.api}/messages", json=body, headers=self.auth)
            ok = response.status_code == 201
        except httpx.TransportError:
            ok = False
        return (time.perf_counter() - begun) * 1000, ok

    async def published(self, stored: int, wait: float = 60.0) -> int:
        """How many messages the channels' last seqs count, once they reach `stored` (or after
        `wait` seconds)."""
        deadline = time.monotonic() + wait
        while True:
            total = 0
            for channel_id in self.channels:
                found = await self.client.get(
                    f"{self.api}/channels/{channel_id}", headers=self.auth
                )
                total += found.raise_for_status().json()["last_seq"]
            if total >= stored or time.monotonic() > deadline:
                return total
            await asyncio.sleep(0.5)


def cpu_per_send(pids: dict[str, int], before: dict[str, float], stored: int) -> None:
    """Where the machine's time went: each service's CPU per stored message (the busiest),
    from the first send until every consumer had caught up."""
    used = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    figure("(d) CPU per stored message, all services", sum(used.values()) / stored * 1000, "ms")
    for name, seconds in sorted(used.items(), key=lambda item: -item[1])[:6]:
        figure(f"(d)   {name}", seconds / stored * 1000, "ms")


def _report(part: str, heading: str, results: list[tuple[float, bool]], elapsed: float) -> int:
    """Print a part's figures; how many of its sends were stored."""
    stored = sum(ok for _, ok in results)
    ms = [latency for latency, _ in results]
    print(f"{part} {heading}: {len(results)} sent, {stored} stored")
    figure(f"{part} messages stored", stored / elapsed, "/s")
    figure(f"{part} send p50", percentile(ms, 50), "ms")
    figure(f"{part} send p99", percentile(ms, 99), "ms")
    return stored


async def saturation(sender: Sender, sends: int, in_flight: int) -> tuple[int, float]:
    """(d) `sends` with `in_flight` outstanding at all times: how many were stored, how fast."""
    queue = iter(range(sends))
    results: list[tuple[float, bool]] = []

    async def worker() -> None:
        for _ in queue:
            results.append(await sender.send())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    elapsed = time.perf_counter() - started
    heading = f"sends through the gateway, {in_flight} in flight"
    stored = _report("(d)", heading, results, elapsed)
    return stored, stored / elapsed


async def offered_rate(sender: Sender, rate: float, seconds: float) -> int:
    """(e) sends started at `rate` a second whatever the answers do (open loop)."""
    started = time.perf_counter()
    tasks = []
    for i in range(int(rate * seconds)):
        if (wait := started + i / rate - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(sender.send()))
    results = await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return _report("(e)", f"sends through the gateway at {rate:.0f}/s offered", results, elapsed)


async def main(
    sends: int = 3000, in_flight: int = 32, rate: float = 1000.0, channels: int = 20
) -> None:
    async with (
        bench_platform("bench", port_offset=PORT_OFFSET, redis_db=REDIS_DB) as platform,
        httpx.AsyncClient(timeout=30, transport=AiohttpTransport()) as client,
    ):
        sender = Sender(client, platform.api)
        await sender.sign_up(channels)
        cpu_before = {name: cpu_seconds(pid) for name, pid in platform.pids.items()}
        stored, reached = await saturation(sender, sends, in_flight)
        # The consumers' backlog from (d) is worked off first, or (e) would compete with it;
        # the CPU it took counts, with a moment for the consumers behind the channel's.
        published = await sender.published(stored + WARM_UP, wait=300)
        await asyncio.sleep(SETTLE_SECONDS)
        cpu_per_send(platform.pids, cpu_before, stored)
        stored += WARM_UP
        figure("(d) published (channels' last_seq)", published, "msgs", f"of {stored} stored")
        if reached < rate:
            # Half: the consumers (channel, search, ...) now keep up as the sends go.
            print(f"(e) {rate:.0f}/s is beyond what (d) reached; offering half of it instead")
            rate = round(reached * 0.5)
        stored += await offered_rate(sender, rate, seconds=15)
        published = await sender.published(stored)
        figure("(e) published (channels' last_seq)", published, "msgs", f"of {stored} stored")


if __name__ == "__main__":
    numbers = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*numbers, *(float(a) for a in sys.argv[3:4])))
