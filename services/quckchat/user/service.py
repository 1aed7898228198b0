"""The user service: profiles, privacy settings, contacts, blocks and push devices."""

from quckchat.core.service import Consumer, Service
from quckchat.user.consumers import on_auth_event
from quckchat.user.routes import router

service = Service(
    routers=[router],
    consumers=[Consumer(sources=("auth",), handler=on_auth_event)],
)
