"""What the gateway's WebSocket hop costs per frame, when realtime runs in a process of its own.

Every implemented service runs as its own `quckchat serve` process on the testbed's real
servers (tests/worlds/platform.py). The same signed-in user opens sockets two ways: straight to
the realtime process, and at the public address on the gateway, which relays each frame. Each
socket sends pings one after another (closed loop) and times the pong:

  round trip p50/p99, direct and through the gateway, and what the hop adds;
  the gateway process's CPU per relayed frame (a ping in, a pong out: two frames).

`python -m bench.gateway_hop [SOCKETS] [PINGS_PER_SOCKET]`
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx
import websockets

from bench.platform import bench_platform
from bench.stats import cpu_seconds, figure, report
from quckchat.realtime.client import PUBLIC_PATH

# The gateway benchmark's offset: the benchmarks run one after another.
PORT_OFFSET = 14000
REDIS_DB = 9
WARM_UP = 20


async def pings(url: str, count: int) -> list[float]:
    """Round trips of `count` pings on one socket, in milliseconds, after a warm-up."""
    async with websockets.connect(url, compression=None) as socket:
        assert json.loads(await socket.recv())["type"] == "hello"
        samples = []
        for n in range(WARM_UP + count):
            started = time.perf_counter()
            await socket.send('{"type":"ping"}')
            while json.loads(await socket.recv())["type"] != "pong":
                continue
            if n >= WARM_UP:
                samples.append((time.perf_counter() - started) * 1000)
        return samples


async def measure(url: str, sockets: int, count: int) -> list[float]:
    rounds = await asyncio.gather(*(pings(url, count) for _ in range(sockets)))
    return [sample for samples in rounds for sample in samples]


async def main(sockets: int = 20, count: int = 500) -> None:
    async with bench_platform("hop", port_offset=PORT_OFFSET, redis_db=REDIS_DB) as platform:
        async with httpx.AsyncClient(timeout=30) as client:
            user = {"email": f"hop-{time.time_ns()}@example.com", "password": "bench password"}
            registered = await client.post(f"{platform.api}/auth/register", json=user)
            token = registered.raise_for_status().json()["access_token"]
        direct = f"ws://127.0.0.1:{platform.port('realtime')}/ws?token={token}"
        gateway = platform.port("backend-gateway")
        relayed = f"ws://127.0.0.1:{gateway}{PUBLIC_PATH}?token={token}"
        report("round trip, straight to realtime", await measure(direct, sockets, count))
        gateway_pid = platform.pids["backend-gateway"]
        before = cpu_seconds(gateway_pid)
        through = await measure(relayed, sockets, count)
        used = cpu_seconds(gateway_pid) - before
        report("round trip, through the gateway", through)
        frames = 2 * (WARM_UP + count) * sockets
        figure("gateway CPU per relayed frame", used / frames * 1e6, "µs", f"{frames} frames")


if __name__ == "__main__":
    numbers = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*numbers))
