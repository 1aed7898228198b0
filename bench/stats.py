"""Small helpers to time things and print figures the same way in every benchmark."""

from __future__ import annotations

import os
import re
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


async def timed(call: Callable[[], Awaitable[object]], n: int, warmup: int = 20) -> list[float]:
    """Latencies of n sequential calls, in milliseconds, after a warm-up."""
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(name: str, samples: list[float], unit: str = "ms") -> None:
    print(
        f"{name:<44} n={len(samples):<6} p50={statistics.median(samples):7.3f}{unit} "
        f"p95={percentile(samples, 95):7.3f}{unit} p99={percentile(samples, 99):7.3f}{unit}"
    )


def figure(name: str, value: float, unit: str, note: str = "") -> None:
    print(f"{name:<44} {value:10.1f} {unit}  {note}".rstrip())


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far, from /proc."""
    # The command name (field 2) may hold spaces, so count fields after its closing bracket.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
