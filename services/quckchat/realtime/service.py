"""The realtime gateway: WebSocket delivery of every event a user may see, with resume."""

import gc

from quckchat import catalog
from quckchat.core.runtime import Runtime
from quckchat.core.service import Consumer, Service
from quckchat.realtime.fanout import deliver_forever, route_event, route_events
from quckchat.realtime.routes import router

# Every topic with events for clients (the catalog's list); one replica routes each event into
# the replay log.
SOURCES = catalog.get("realtime").consumes

# A full collection walks every object: the modules loaded at startup and each connection's.
# At the default thresholds those pauses (~0.4 s) set the fan-out p99 (bench/messaging.py), so
# what startup made is frozen out of them, and they come less often.
GC_THRESHOLDS = (50_000, 20, 100)


async def collect_less_often(runtime: Runtime) -> None:
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


service = Service(
    routers=[router],
    on_startup=[collect_less_often],
    consumers=[Consumer(sources=SOURCES, handler=route_event, batch=route_events)],
    background=[deliver_forever],
)
