"""`python -m bench.peers [SERVER ...] [--rate N]`: the chat workload on each server (all four
unless named: quckchat synapse dendrite centrifugo), then the fan-out on QuckChat and
Centrifugo, then one table. `--rate` is the common fixed rate (messages/s) the CPU figures are
taken at."""

from __future__ import annotations

import argparse
import asyncio

from bench.peers.run import COMMON_RATE, SERVERS, main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.peers")
    parser.add_argument("servers", nargs="*", choices=[*SERVERS, []], default=[])
    parser.add_argument("--rate", type=float, default=COMMON_RATE, help="messages/s")
    args = parser.parse_args()
    asyncio.run(main(args.servers, args.rate))
