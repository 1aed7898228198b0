"""The whole comparison: the chat workload on each named server, then the fan-out on QuckChat and
Centrifugo, then one table and the issue's goals, each met or missed."""

from __future__ import annotations

import platform
import resource
import traceback
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from bench import messaging
from bench.messaging import FanOut
from bench.peers import centrifugo, dendrite, quckchat, synapse
from bench.peers.chat import ChatResult, ChatServer, measure
from bench.peers.table import chat_table, fan_out_table, goals
from tests.support import load_testbed_env

SERVERS: dict[str, Callable[[], AbstractAsyncContextManager[ChatServer]]] = {
    "quckchat": quckchat.running,
    "synapse": synapse.running,
    "dendrite": dendrite.running,
    "centrifugo": centrifugo.running,
}
FAN_OUT_RATE = 30.0  # publications a second to 2,000 subscribers: 60,000 deliveries a second


async def _chat(names: list[str], rate: float) -> dict[str, ChatResult]:
    results: dict[str, ChatResult] = {}
    for name in names:
        print(f"chat on {name}:", flush=True)
        try:
            async with SERVERS[name]() as server:
                result = await measure(server, fixed_rate=rate)
        except Exception:  # one peer that cannot run still leaves the others' figures
            print(f"chat on {name} could not be measured:\n{traceback.format_exc()}")
            continue
        results[result.name] = result
    return results


async def _fan_out(names: list[str]) -> dict[str, FanOut]:
    runs: dict[str, FanOut] = {}
    if "quckchat" in names:
        runs["QuckChat"] = await messaging.one_big_channel(rate=FAN_OUT_RATE)
        runs["QuckChat"].print()
    if "centrifugo" in names:
        try:
            runs["Centrifugo"] = await centrifugo.fan_out(messaging.CLIENTS, rate=FAN_OUT_RATE)
        except Exception:
            print(f"fan-out on Centrifugo could not be measured:\n{traceback.format_exc()}")
        else:
            runs["Centrifugo"].print()
    return runs


COMMON_RATE = 20.0  # messages/s: the fixed rate the CPU figures are taken at


async def main(names: list[str] | None = None, rate: float = COMMON_RATE) -> None:
    names = names or list(SERVERS)
    load_testbed_env()
    # 2,000 sockets on each side of the fan-out, and 200 long polls.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    chat = await _chat(names, rate)
    fan_out = await _fan_out(names)
    print(f"\nPeers beside QuckChat on {platform.node()}: ratios are the peer's figure over ours")
    if chat:
        print(chat_table(list(chat.values())))
    if fan_out:
        versions = {
            "QuckChat": quckchat.QuckChat.version,
            "Centrifugo": centrifugo.Centrifugo.version,
        }
        print(fan_out_table([(f"{name} {versions[name]}", run) for name, run in fan_out.items()]))
    for line in goals(chat, fan_out):
        print(f"- {line}")
