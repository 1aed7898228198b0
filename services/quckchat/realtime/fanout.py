"""Kafka to the replay log (once, by whichever replica), and the log to local clients (all).

`route_event` is the shared consumer: it works out the event's audience and appends it to the
stream once. `deliver_forever` runs in every replica: it reads the whole stream and hands each
entry to the hub, which queues it for the local clients in its audience.
"""

from __future__ import annotations

from quckchat.core import logging as qlog
from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.realtime.audience import audience_of
from quckchat.realtime.hub import Hub
from quckchat.realtime.stream import Stream

log = qlog.get("realtime.fanout")

HUB_KEY = "realtime.hub"
STREAM_KEY = "realtime.stream"


def hub_of(runtime: Runtime) -> Hub:
    hub: Hub = runtime.state.setdefault(HUB_KEY, Hub())
    return hub


def stream_of(runtime: Runtime) -> Stream:
    stream: Stream | None = runtime.state.get(STREAM_KEY)
    if stream is None:
        stream = Stream(runtime.cache, runtime.settings.realtime_replay_events)
        runtime.state[STREAM_KEY] = stream
    return stream


async def route_event(runtime: Runtime, event: Event) -> None:
    """Append an event for clients to the replay log, once per event id."""
    audience = audience_of(event)
    if not audience.empty:
        await stream_of(runtime).append(event.id, event.type, event.data, audience)


async def route_events(runtime: Runtime, events: list[Event]) -> None:
    """`route_event` for a fetched batch, in order, in one round trip to the log."""
    routed = [(e.id, e.type, e.data, a) for e in events if not (a := audience_of(e)).empty]
    if routed:
        await stream_of(runtime).append_all(routed)


async def deliver_forever(runtime: Runtime) -> None:
    """Read every new entry of the log and dispatch it to this replica's clients."""
    stream, hub = stream_of(runtime), hub_of(runtime)
    cursor = await stream.last_id()
    while True:
        try:
            entries = await stream.read(cursor)
        except Exception:  # Redis away: keep the position, try again
            log.exception("reading the realtime stream failed; retrying")
            entries = []
        for entry in entries:
            hub.dispatch(entry)
            cursor = entry.id
