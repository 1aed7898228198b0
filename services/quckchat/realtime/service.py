"""The realtime gateway: WebSocket delivery of every event a user may see, with resume."""

from quckchat.core.service import Consumer, Service
from quckchat.realtime.fanout import deliver_forever, route_event
from quckchat.realtime.routes import router

# Every topic with events for clients; one replica routes each event into the replay log.
SOURCES = ("message", "channel", "workspace", "thread", "presence", "reminder", "event-broadcast")

service = Service(
    routers=[router],
    consumers=[Consumer(sources=SOURCES, handler=route_event)],
    background=[deliver_forever],
)
