"""The bookmark service: saved messages per user and links in channel headers."""

from quckchat.bookmark.consumers import on_event
from quckchat.bookmark.routes import router
from quckchat.channel import client as channel_client
from quckchat.core.service import Consumer, Service

service = Service(
    routers=[router],
    consumers=[
        Consumer(sources=("message", "channel"), handler=on_event),
        # Every replica drops its cached channel memberships when they change.
        channel_client.MEMBERSHIP_CACHE,
    ],
)
