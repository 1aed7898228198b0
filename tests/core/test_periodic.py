"""Periodic jobs: steps in order every interval; a failing step is logged and counted, no more."""

from __future__ import annotations

import asyncio
import itertools
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import REGISTRY

from quckchat.core.periodic import Periodic, nudge, run_forever, run_once


def runs(job: str, step: str, outcome: str) -> float:
    labels = {"job": job, "step": step, "outcome": outcome}
    return REGISTRY.get_sample_value("quckchat_periodic_step_runs_total", labels) or 0.0


async def test_a_failing_step_is_logged_and_counted_and_the_next_step_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    done: list[str] = []

    async def first(runtime: Any) -> None:
        done.append("first")

    async def broken(runtime: Any) -> None:
        done.append("broken")
        raise ConnectionError("the store went away")

    async def last(runtime: Any) -> None:
        done.append("last")

    job = Periodic("test steps", 1.0, (first, broken, last))
    before = runs("test steps", "broken", "failed"), runs("test steps", "last", "ok")
    with caplog.at_level(logging.ERROR):
        failed = await run_once(SimpleNamespace(stopping=False), job)  # type: ignore[arg-type]
    assert failed == 1
    assert done == ["first", "broken", "last"]
    assert runs("test steps", "broken", "failed") == before[0] + 1
    assert runs("test steps", "last", "ok") == before[1] + 1
    assert "step broken failed" in caplog.text and "the store went away" in caplog.text


async def test_it_runs_every_interval_through_failures_until_the_service_stops() -> None:
    runtime = SimpleNamespace(stopping=False, state={})
    ticks: list[float] = []

    async def tick(runtime: Any) -> None:
        ticks.append(asyncio.get_running_loop().time())
        if len(ticks) == 4:
            runtime.stopping = True
        if len(ticks) % 2:
            raise RuntimeError("every other tick fails")

    job = Periodic("ticker", 0.05, (tick,))
    await asyncio.wait_for(run_forever(runtime, job), 5)  # type: ignore[arg-type]
    assert len(ticks) == 4
    # The wait comes after each run, failed or not (a lower bound: sleeps never end early).
    assert all(b - a >= 0.04 for a, b in itertools.pairwise(ticks))


def test_a_job_needs_steps_and_a_positive_interval() -> None:
    async def step(runtime: Any) -> None:
        return None

    with pytest.raises(ValueError, match="positive interval"):
        Periodic("never", 0, (step,))
    with pytest.raises(ValueError, match="needs steps"):
        Periodic("empty", 1.0, ())


async def test_a_nudged_job_runs_at_once_instead_of_at_its_next_tick() -> None:
    runtime = SimpleNamespace(stopping=False, state={})
    runs_seen = [asyncio.Event(), asyncio.Event()]
    count = 0

    async def step(runtime: Any) -> None:
        nonlocal count
        runs_seen[min(count, 1)].set()
        count += 1

    job = Periodic("rarely", 3600.0, (step,))
    task = asyncio.create_task(run_forever(runtime, job))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(runs_seen[0].wait(), 2)  # the first run, at start
        nudge(runtime, job)  # type: ignore[arg-type]
        await asyncio.wait_for(runs_seen[1].wait(), 2)  # long before its hour
    finally:
        runtime.stopping = True
        task.cancel()
    assert count == 2
