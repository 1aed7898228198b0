"""The notification orchestrator: decides who is told of what, on which media and when, from
message, thread and reminder events; the notification service carries the decisions out."""

from quckchat.channel import client as channel_client
from quckchat.core.service import Consumer, Service
from quckchat.notification_orchestrator import logic, store
from quckchat.notification_orchestrator.routes import router
from quckchat.user import client as user_client

service = Service(
    routers=[router],
    consumers=[
        Consumer(sources=("message", "thread", "reminder"), handler=logic.on_event),
        # Every replica drops its kept member lists and settings when they change.
        channel_client.MEMBERSHIP_CACHE,
        user_client.NOTIFY_CACHE,
    ],
    document_indexes=store.INDEXES,
    document_outboxes=(store.DECIDED, store.WITHDRAWN),
)
