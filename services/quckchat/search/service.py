"""The search service: message search scoped to what the asker can read."""

from quckchat.core.service import Consumer, Service
from quckchat.search.consumers import on_event
from quckchat.search.routes import router
from quckchat.search.store import close_backend, open_backend

service = Service(
    routers=[router],
    consumers=[Consumer(sources=("message",), handler=on_event)],
    on_startup=[open_backend],
    on_shutdown=[close_backend],
)
