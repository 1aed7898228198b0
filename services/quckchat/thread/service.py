"""The thread service: reply counts, followers and unread per thread, from message events."""

from quckchat.core.service import Consumer, Service
from quckchat.message.consumers import on_channel_event as forget_memberships
from quckchat.thread.consumers import on_event
from quckchat.thread.routes import router

service = Service(
    routers=[router],
    consumers=[
        Consumer(sources=("message", "channel"), handler=on_event),
        # Every replica drops its cached channel memberships when they change.
        Consumer(sources=("channel",), handler=forget_memberships, broadcast=True),
    ],
)
