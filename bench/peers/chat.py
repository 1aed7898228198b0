"""The chat workload, the same for every server, and the load generator that drives it.

200 users in 20 rooms of 10 and one room of all 200. Messages go round-robin over the rooms, each
from the room's next member, started at an offered rate whatever the answers do (open loop).
Every member of the room, the sender too, receives each message on its push channel: a
WebSocket (QuckChat, Centrifugo) or a Matrix `/sync` long poll. Those clients run in a process
of their own (the machine's other core), on `bench.ws_load` and a lean long poll: neither parses
JSON to time a message, the send time is read out of its text. Sends are made from this process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Literal, Protocol, TypeVar

import aiohttp
import uvloop

from bench.stats import cpu_seconds, percentile, rss_mb, tree_cpu_seconds
from bench.ws_load import Dialect, Tally, connect

USERS, SMALL_ROOMS, SMALL_ROOM_SIZE = 200, 20, 10
# The send time, as every server carries it: in the message's text.
MARK_START, MARK_END = b"@t=", b";"
HELD_P99_MS = 200.0
# Seconds each delivery may take to arrive once the last send of a step was answered.
DRAIN_SECONDS = 5.0
# Clients connect this many at a time: a burst of 200 handshakes is not what is measured.
CONNECT_BATCH = 20
# Told to the receiving process as a step begins.
FORGET = "forget"
# A server is back to idle within this share of a core of what it used before the load.
IDLE_SHARE = 0.05
# A send not answered by then counts as not taken.
SEND_TIMEOUT = aiohttp.ClientTimeout(total=30)


def sending_session() -> aiohttp.ClientSession:
    """The HTTP client sends and set-up calls go through: keep-alive, up to 256 at once."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256), timeout=SEND_TIMEOUT)


# Set-up calls at once (sign-ups hash passwords): set-up is not what is measured.
SET_UP_AT_ONCE = 8
T = TypeVar("T")


def rooms(
    users: int = USERS, small: int = SMALL_ROOMS, size: int = SMALL_ROOM_SIZE
) -> list[list[int]]:
    """Each room's members, by user number: the small rooms, then the room of everyone."""
    return [list(range(i * size, (i + 1) * size)) for i in range(small)] + [list(range(users))]


def stamped(note: str = "x" * 48) -> str:
    """A message text that carries its send time."""
    return f"@t={time.time():.6f}; {note}"


@dataclass(frozen=True)
class Listener:
    """How one user receives (plain data, handed to the receiving process)."""

    kind: Literal["websocket", "sync"]
    url: str
    dialect: Dialect | None = None
    # A Matrix long poll's access token, where it starts, and the filter that keeps messages.
    token: str = ""
    since: str = ""
    filter: str = ""


class ChatServer(Protocol):
    """What the workload needs of a server: users and rooms made, a send, and its processes."""

    name: str
    version: str

    async def prepare(self, rooms: list[list[int]]) -> list[Listener]:
        """Sign up the users, make the rooms with their members; each user's listener."""
        ...

    async def send(self, room: int, sender: int, text: str) -> bool:
        """Post `text` to the room as the user; whether the server took it."""
        ...

    def app_pids(self) -> dict[str, int]:
        """The application's processes, by name."""
        ...

    def store_pids(self) -> list[int]: ...


@dataclass
class Step:
    """One run at an offered rate: what was sent, what arrived, and what it cost."""

    rate: float
    seconds: float
    sent: int = 0
    failed: int = 0
    expected: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    app_cpu: float = 0.0
    # Each application process's part of app_cpu.
    app_cpu_by: dict[str, float] = field(default_factory=dict)
    store_cpu: float = 0.0
    app_rss_mb: float = 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99) if self.latencies_ms else float("nan")

    @property
    def held(self) -> bool:
        """Every send taken, every copy arrived, and p99 within the bound."""
        complete = self.failed == 0 and len(self.latencies_ms) >= self.expected
        return complete and self.p99 <= HELD_P99_MS

    def busiest(self, count: int = 8) -> str:
        """The processes that spent the most, in ms per message taken."""
        taken = max(self.sent - self.failed, 1)
        ranked = sorted(self.app_cpu_by.items(), key=lambda item: -item[1])[:count]
        return ", ".join(f"{name} {1000 * cpu / taken:.2f}" for name, cpu in ranked)

    def line(self) -> str:
        return (
            f"{self.rate:7.1f}/s offered: {self.sent - self.failed}/{self.sent} sends taken, "
            f"{len(self.latencies_ms)}/{self.expected} copies arrived, "
            f"p50 {self.p50:.1f} ms, p99 {self.p99:.1f} ms"
        )


async def at_most(limit: int, calls: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Await the calls, `limit` at a time; their results in order."""
    room = asyncio.Semaphore(limit)

    async def one(call: Coroutine[Any, Any, T]) -> T:
        async with room:
            return await call

    return list(await asyncio.gather(*(one(call) for call in calls)))


# The receiving process ----------------------------------------------------------------------


def next_batch(body: bytes) -> str:
    """A /sync answer's `next_batch`, read without parsing the answer."""
    at = body.index(b'"next_batch":"') + len(b'"next_batch":"')
    return body[at : body.index(b'"', at)].decode()


async def _long_poll(session: aiohttp.ClientSession, listener: Listener, tally: Tally) -> None:
    """A Matrix client's /sync loop: each answer's messages timed, then the next poll."""
    headers = {"Authorization": f"Bearer {listener.token}"}
    since = listener.since
    while True:
        params = {"since": since, "timeout": "30000", "filter": listener.filter}
        try:
            async with session.get(listener.url, params=params, headers=headers) as answer:
                body = await answer.read()
        except aiohttp.ClientError:
            await asyncio.sleep(0.1)
            continue
        if answer.status != 200:
            await asyncio.sleep(0.1)
            continue
        tally.event(body)
        since = next_batch(body)


async def _receive(listeners: list[Listener], pipe: Connection) -> None:
    """Connect every listener, say so; then, per step asked for, the latencies that arrived."""
    tally = Tally(expected=1 << 62, start=MARK_START, end=MARK_END)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout()) as web:
        transports, polls = [], []
        for start in range(0, len(listeners), CONNECT_BATCH):
            batch = listeners[start : start + CONNECT_BATCH]
            sockets = [item for item in batch if item.kind == "websocket"]
            transports += await asyncio.gather(
                *(connect(item.url, tally, item.dialect or Dialect()) for item in sockets)
            )
            polls += [
                asyncio.create_task(_long_poll(web, item, tally))
                for item in batch
                if item.kind == "sync"
            ]
        pipe.send("connected")
        loop = asyncio.get_running_loop()
        while (asked := await loop.run_in_executor(None, pipe.recv)) is not None:
            if asked == FORGET:  # a step begins: what a step before it left arriving is not its
                tally.latencies = []
                pipe.send(FORGET)  # the step's first copies must not come before this
                continue
            tally.expected, drain = asked
            tally.done.clear()
            if len(tally.latencies) >= tally.expected:
                tally.done.set()
            with suppress(TimeoutError):
                async with asyncio.timeout(drain):
                    await tally.done.wait()
            pipe.send([seconds * 1000 for seconds in tally.latencies])
            tally.latencies = []
        for transport in transports:
            transport.abort()
        for poll in polls:
            poll.cancel()
        await asyncio.gather(*polls, return_exceptions=True)


def _receiver(listeners: list[Listener], pipe: Connection) -> None:
    uvloop.run(_receive(listeners, pipe))


@asynccontextmanager
async def receiving(listeners: list[Listener]) -> AsyncIterator[Connection]:
    """The receiving process, connected; the pipe that asks it for each step's latencies."""
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    process = spawn.Process(target=_receiver, args=(listeners, theirs), daemon=True)
    process.start()
    loop = asyncio.get_running_loop()
    try:
        if not await loop.run_in_executor(None, ours.poll, 300):
            raise RuntimeError("the receiving clients did not connect within 300 s")
        ours.recv()
        yield ours
    finally:
        with suppress(OSError):
            ours.send(None)
        await loop.run_in_executor(None, process.join, 30)
        if process.is_alive():
            process.kill()


# Steps --------------------------------------------------------------------------------------


async def _offer(
    send: Callable[[int, int, str], Coroutine[Any, Any, bool]],
    layout: Sequence[Sequence[int]],
    rate: float,
    seconds: float,
) -> tuple[list[bool], list[int]]:
    """Start sends at `rate` a second, round-robin over the rooms; whether each was taken, and
    how many copies each should make (its room's size)."""
    tasks: list[asyncio.Task[bool]] = []
    copies: list[int] = []
    started = time.perf_counter()
    for i in range(int(rate * seconds)):
        if (wait := started + i / rate - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        room = i % len(layout)
        members = layout[room]
        sender = members[(i // len(layout)) % len(members)]
        tasks.append(asyncio.create_task(send(room, sender, stamped())))
        copies.append(len(members))
    return list(await asyncio.gather(*tasks)), copies


async def run_step(
    server: ChatServer,
    pipe: Connection,
    layout: Sequence[Sequence[int]],
    rate: float,
    seconds: float,
    settle: float = 0.0,
) -> Step:
    """One step at `rate`: sends, then every copy awaited (at most DRAIN_SECONDS more), then
    `settle` seconds for the work behind delivery (indexing...) inside the CPU window."""
    step = Step(rate=rate, seconds=seconds)
    loop = asyncio.get_running_loop()
    pipe.send(FORGET)
    await loop.run_in_executor(None, pipe.recv)
    apps, stores = server.app_pids(), server.store_pids()
    app_before = {name: cpu_seconds(pid) for name, pid in apps.items()}
    store_before = sum(tree_cpu_seconds(pid) for pid in stores)
    taken, copies = await _offer(server.send, layout, rate, seconds)
    step.sent, step.failed = len(taken), taken.count(False)
    step.expected = sum(n for n, ok in zip(copies, taken, strict=True) if ok)
    pipe.send((step.expected, DRAIN_SECONDS))
    step.latencies_ms = await loop.run_in_executor(None, pipe.recv)
    await asyncio.sleep(settle)
    step.app_cpu_by = {name: cpu_seconds(pid) - app_before[name] for name, pid in apps.items()}
    step.app_cpu = sum(step.app_cpu_by.values())
    step.store_cpu = sum(tree_cpu_seconds(pid) for pid in stores) - store_before
    step.app_rss_mb = sum(rss_mb(pid) for pid in apps.values())
    return step


@dataclass
class ChatResult:
    name: str
    version: str
    fixed: Step
    held: Step | None
    steps: list[Step]
    # Every step was held up to the highest rate tried: the held rate is a floor.
    capped: bool = False
    # The share of a core the application used with every client connected and nothing sent.
    idle_share: float = 0.0


async def _usage(pids: list[int], seconds: float = 1.0) -> float:
    """The share of a core the processes use over the next `seconds`."""
    before = sum(cpu_seconds(pid) for pid in pids)
    await asyncio.sleep(seconds)
    return (sum(cpu_seconds(pid) for pid in pids) - before) / seconds


async def idle(server: ChatServer, baseline: float, most: float = 120.0) -> None:
    """Wait until the server's processes are back to their `baseline` use (what they spend
    with nothing to do): the backlog of a step it did not hold is worked off before the next
    begins (at most `most` seconds)."""
    pids = list(server.app_pids().values())
    deadline = time.monotonic() + most
    while time.monotonic() < deadline and await _usage(pids) > baseline + IDLE_SHARE:
        pass


async def measure(
    server: ChatServer,
    *,
    fixed_rate: float,
    fixed_seconds: float = 20.0,
    step_seconds: float = 10.0,
    first_rate: float = 5.0,
    factor: float = 1.5,
    most: float = 3000.0,
) -> ChatResult:
    """Warm up; raise the rate from `first_rate` until a step is not held; then, idle again,
    run the common fixed rate the CPU figures are taken at."""
    layout = rooms()
    listeners = await server.prepare(layout)
    async with receiving(listeners) as pipe:
        # What its processes use with every client connected and nothing sent.
        baseline = await _usage(list(server.app_pids().values()), seconds=5.0)
        print(f"  {server.name} idle    {100 * baseline:.1f} % of a core", flush=True)
        await run_step(server, pipe, layout, rate=5, seconds=3)  # caches and connections
        steps: list[Step] = []
        rate = first_rate
        while rate <= most:
            await idle(server, baseline)
            step = await run_step(server, pipe, layout, rate, step_seconds)
            print(f"  {server.name} step    {step.line()}", flush=True)
            steps.append(step)
            if not step.held:
                break
            rate *= factor
        await idle(server, baseline)
        fixed = await run_step(server, pipe, layout, fixed_rate, fixed_seconds, settle=3.0)
        print(f"  {server.name} fixed   {fixed.line()}")
        print(f"  {server.name} CPU ms per message: {fixed.busiest()}", flush=True)
    held = next((s for s in reversed(steps) if s.held), None)
    return ChatResult(
        server.name, server.version, fixed, held, steps, capped=steps[-1].held, idle_share=baseline
    )
