"""Periodic jobs (sweepers, timers, firing, outbox publishing), declared on the `Service` and
run by the framework for the service's lifetime.

A job is one or more steps run in order every `every` seconds, or at once when the service
`nudge`s it because work for it has just arrived. A failing step is logged and
counted, and the next step and the next tick go on: a store hiccup never ends the loop. Every
replica runs every job; a job whose work must be done once claims it item by item (a row
update or a document insert that only one replica wins), so replicas share the work instead
of electing a leader that could stall.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter

from quckchat.core import logging as qlog

if TYPE_CHECKING:
    from quckchat.core.runtime import Runtime

Step = Callable[["Runtime"], Awaitable[Any]]

log = qlog.get("periodic")
WAKE = "periodic.wake"  # runtime.state: an event per job that a nudge sets
RUNS = Counter(
    "quckchat_periodic_step_runs_total",
    "Runs of each periodic job's steps, by outcome.",
    ["job", "step", "outcome"],
)


@dataclass(frozen=True)
class Periodic:
    """Run `steps` in order, then wait `every` seconds, for as long as the service runs."""

    name: str
    every: float
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        if self.every <= 0 or not self.steps:
            raise ValueError(f"periodic job {self.name!r} needs steps and a positive interval")


async def run_once(runtime: Runtime, job: Periodic) -> int:
    """One tick of `job`: each step in turn; how many steps failed (each one logged)."""
    failed = 0
    for step in job.steps:
        try:
            await step(runtime)
        except Exception:  # the next step and the next tick go on
            failed += 1
            RUNS.labels(job.name, step.__name__, "failed").inc()
            log.exception("periodic job %s: step %s failed", job.name, step.__name__)
        else:
            RUNS.labels(job.name, step.__name__, "ok").inc()
    return failed


def _wake(runtime: Runtime, job: Periodic) -> asyncio.Event:
    events: dict[str, asyncio.Event] = runtime.state.setdefault(WAKE, {})
    return events.setdefault(job.name, asyncio.Event())


def nudge(runtime: Runtime, job: Periodic) -> None:
    """Run `job` now rather than at its next tick: work for it has just arrived."""
    _wake(runtime, job).set()


async def run_forever(runtime: Runtime, job: Periodic) -> None:
    """`job` every `job.every` seconds, or sooner when nudged, until the service stops."""
    wake = _wake(runtime, job)
    while not runtime.stopping:
        wake.clear()  # a nudge during the run below makes the next one start at once
        await run_once(runtime, job)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), job.every)
