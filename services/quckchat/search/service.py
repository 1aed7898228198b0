"""The search service: message search scoped to what the asker can read, and the files of a
channel found by name or extracted text (asked by the attachment service)."""

from quckchat.core.service import Consumer, Service
from quckchat.search.consumers import on_event, on_events
from quckchat.search.routes import internal, router
from quckchat.search.store import close_backend, open_backend

service = Service(
    routers=[router, internal],
    consumers=[
        Consumer(sources=("message", "attachment", "media"), handler=on_event, batch=on_events)
    ],
    on_startup=[open_backend],
    on_shutdown=[close_backend],
)
