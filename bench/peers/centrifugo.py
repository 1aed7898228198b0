"""Centrifugo, the reference for WebSocket fan-out: a server on 127.0.0.1 with its memory
engine, publications through its HTTP API, clients on its JSON WebSocket protocol.

It stores nothing and knows no rooms: in the chat workload a send is a publication to the room's
channel, as a backend would publish once it had stored the message.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import jwt

from bench.messaging import DRAIN_SECONDS, FanOut, client_process
from bench.peers.chat import Listener, sending_session
from bench.peers.install import CENTRIFUGO_VERSION, centrifugo_binary
from bench.peers.process import started_server
from bench.stats import cpu_times, rss_mb
from bench.ws_load import centrifugo as dialect

PORT = 16800
API_KEY = "bench-api-key"
SECRET = "bench-hmac-secret-of-the-peer-benchmark"


def _config(path: Path) -> Path:
    config = {
        "http_server": {"address": "127.0.0.1", "port": PORT},
        "log": {"level": "warn"},
        "engine": {"type": "memory"},
        # No stats leave the machine (a source build has no endpoint for them anyway).
        "usage_stats": {"disabled": True},
        "http_api": {"key": API_KEY},
        "client": {
            "token": {"hmac_secret_key": SECRET},
            # A client that falls 1 MiB behind (the default) is closed as slow; the fan-out's
            # 2,000 readers on one shared core may lag behind that in a burst.
            "queue_max_size": 16 * 1024 * 1024,
        },
        "channel": {"without_namespace": {"allow_subscribe_for_client": True}},
        "websocket": {"write_timeout": "5s"},
        "health": {"enabled": True},
    }
    path.write_text(json.dumps(config))
    return path


def token(user: str) -> str:
    return jwt.encode({"sub": user}, SECRET, algorithm="HS256")


def socket_url() -> str:
    return f"ws://127.0.0.1:{PORT}/connection/websocket?cf_ws_frame_ping_pong=true"


class Centrifugo:
    name = "Centrifugo"
    version = CENTRIFUGO_VERSION

    def __init__(self, pid: int, web: aiohttp.ClientSession) -> None:
        self.pid, self.web = pid, web
        self.channels: list[str] = []

    async def publish(self, channel: str, data: dict[str, object]) -> bool:
        body = {"channel": channel, "data": data}
        try:
            async with self.web.post(
                f"http://127.0.0.1:{PORT}/api/publish",
                json=body,
                headers={"X-API-Key": API_KEY},
            ) as answer:
                return answer.status == 200 and "error" not in await answer.json()
        except (aiohttp.ClientError, TimeoutError):  # not taken in time: a failed send
            return False

    async def prepare(self, rooms: list[list[int]]) -> list[Listener]:
        self.channels = [f"room-{n}" for n in range(len(rooms))]
        users = max(max(members) for members in rooms) + 1
        joined: list[list[str]] = [[] for _ in range(users)]
        for number, members in enumerate(rooms):
            for n in members:
                joined[n].append(self.channels[number])
        return [
            Listener("websocket", socket_url(), dialect(token(f"u{n}"), joined[n]))
            for n in range(users)
        ]

    async def send(self, room: int, sender: int, text: str) -> bool:
        return await self.publish(self.channels[room], {"text": text, "sender": f"u{sender}"})

    def app_pids(self) -> dict[str, int]:
        return {"centrifugo": self.pid}

    def store_pids(self) -> list[int]:
        return []


@asynccontextmanager
async def running() -> AsyncIterator[Centrifugo]:
    binary = centrifugo_binary()
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(Path(tmp) / "config.json")
        command = [str(binary), "-c", str(config)]
        health = f"http://127.0.0.1:{PORT}/health"
        async with (
            started_server("centrifugo", command, health, Path(tmp)) as pid,
            sending_session() as web,
        ):
            yield Centrifugo(pid, web)


async def fan_out(clients: int, rate: float = 30.0, seconds: float = 10.0) -> FanOut:
    """`clients` subscribers of one channel; `rate` publications a second for `seconds`,
    timed by the same clients as QuckChat's fan-out (`bench.messaging`)."""
    count = int(rate * seconds)
    spawn = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    async with running() as server:
        rss_before = rss_mb(server.pid)
        users = [f"f{n}" for n in range(clients)]
        sockets = [(socket_url(), dialect(token(u), ["big"])) for u in users]
        pipe, child = spawn.Pipe()
        process = spawn.Process(target=client_process, args=(sockets, count * clients, child))
        process.start()
        await loop.run_in_executor(None, pipe.recv)
        rss_connected = rss_mb(server.pid)
        started, cpu = time.time(), cpu_times(server.pid)
        publishes = []
        for i in range(count):
            if (wait := started + i / rate - time.time()) > 0:
                await asyncio.sleep(wait)
            data = {"t": time.time(), "text": "x" * 64}
            publishes.append(asyncio.create_task(server.publish("big", data)))
        taken = await asyncio.gather(*publishes)
        sent_for = time.time() - started
        pipe.send(DRAIN_SECONDS)
        latencies, finished, client_cpu = await loop.run_in_executor(None, pipe.recv)
        used = cpu_times(server.pid)
        process.join(30)
    if not all(taken):
        print(f"Centrifugo fan-out: {taken.count(False)} of {count} publications refused")
    return FanOut(
        name=f"Centrifugo, one channel of {clients}",
        clients=clients,
        offered=count,
        sent_for=sent_for,
        expected=count * clients,
        latencies_ms=[s * 1000 for s in latencies],
        elapsed=finished - started,
        server_cpu=sum(used) - sum(cpu),
        server_kernel=used[1] - cpu[1],
        client_cpu=client_cpu,
        rss_before_mb=rss_before,
        rss_connected_mb=rss_connected,
    )
