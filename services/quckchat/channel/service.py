"""The channel service: conversations, their members, pins, unread and mention counts."""

from quckchat.channel import internal_routes, routes
from quckchat.channel.consumers import on_event, on_events
from quckchat.core.service import Consumer, Service
from quckchat.user import client as user_client

service = Service(
    # Internal routes first: their literal segments must win over the public /{channel_id}.
    routers=[internal_routes.router, routes.router],
    consumers=[
        Consumer(sources=("message", "workspace"), handler=on_event, batch=on_events),
        user_client.NAME_CACHE,
    ],
)
