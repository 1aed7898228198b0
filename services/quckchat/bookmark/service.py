"""The bookmark service: saved messages per user and links in channel headers."""

from quckchat.bookmark.consumers import on_event
from quckchat.bookmark.routes import router
from quckchat.core.service import Consumer, Service
from quckchat.message.consumers import on_channel_event as forget_memberships

service = Service(
    routers=[router],
    consumers=[
        Consumer(sources=("message", "channel"), handler=on_event),
        # Every replica drops its cached channel memberships when they change.
        Consumer(sources=("channel",), handler=forget_memberships, broadcast=True),
    ],
)
