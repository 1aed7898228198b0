"""The thread service: reply counts, followers and unread per thread, from message events."""

from quckchat.channel import client as channel_client
from quckchat.core.service import Consumer, Service
from quckchat.thread.consumers import on_event
from quckchat.thread.routes import router

service = Service(
    routers=[router],
    consumers=[
        Consumer(sources=("message", "channel"), handler=on_event),
        # Every replica drops its cached channel memberships when they change.
        channel_client.MEMBERSHIP_CACHE,
    ],
)
