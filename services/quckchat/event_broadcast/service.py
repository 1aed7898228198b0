"""The event-broadcast service: workspace, channel and permission events to their audiences,
announcements and platform notices, with a history in MongoDB."""

from quckchat.core.service import Consumer, Service
from quckchat.event_broadcast import publish, store
from quckchat.event_broadcast.consumers import on_event
from quckchat.event_broadcast.routes import router

service = Service(
    routers=[router],
    consumers=[Consumer(sources=("workspace", "channel", "permission"), handler=on_event)],
    document_indexes=store.INDEXES,
    document_outboxes=(publish.OUTBOX,),
)
