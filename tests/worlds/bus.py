"""What services publish on the in-process bus, watched as a consumer of their topics would."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from quckchat.core.events import Event


def drain(queue: asyncio.Queue[Event]) -> list[Event]:
    """The events queued so far, in order, and the queue emptied (the bus routes at once)."""
    found = []
    while not queue.empty():
        found.append(queue.get_nowait())
    return found


def matches(event: Event, type_: str, data: dict[str, Any]) -> bool:
    """The event is of the type, and its data holds `data`."""
    return event.type == type_ and all(event.data.get(k) == v for k, v in data.items())


async def next_event(
    queue: asyncio.Queue[Event], type_: str, *, within: float = 5.0, **data: Any
) -> Event:
    """The next event of the type whose data holds `data`; the others before it are dropped."""
    async with asyncio.timeout(within):
        while True:
            event = await queue.get()
            if matches(event, type_, data):
                return event


@dataclass
class Observer:
    """The events of some topics published since the last look (the bus routes at once)."""

    queue: asyncio.Queue[Event]
    seen: list[Event] = field(default_factory=list)

    def drain(self) -> list[Event]:
        self.seen.extend(drain(self.queue))
        taken, self.seen = self.seen, []
        return taken

    async def wait_for(self, type_: str, within: float = 10.0, **data: Any) -> Event:
        """The next event of that type whose data has the given values (others stay queued)."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            for event in self.seen:
                if matches(event, type_, data):
                    self.seen.remove(event)
                    return event
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {type_} {data} within {within}s; saw {self.seen}")
            try:
                self.seen.append(await asyncio.wait_for(self.queue.get(), remaining))
            except TimeoutError:
                continue
