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


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU time a process has used so far, from /proc."""
    # The command name (field 2) may hold spaces, so count fields after its closing bracket.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid: int) -> float:
    """All the CPU time a process has used so far."""
    return sum(cpu_times(pid))


def _children() -> dict[int, list[int]]:
    """Every live process's children, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    return children


def tree_cpu_seconds(pid: int) -> float:
    """CPU a server and all its processes used so far: each live one's own, plus what its
    reaped children used (a database's connection backends come and go)."""
    children, total, todo = _children(), 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        todo += children.get(current, [])
    return total
