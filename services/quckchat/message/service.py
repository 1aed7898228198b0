"""The message service: messages, threads' replies, reactions, receipts, on MongoDB."""

from quckchat.core.service import Consumer, Service
from quckchat.message import store, timers
from quckchat.message.consumers import on_channel_event
from quckchat.message.routes import internal, router

service = Service(
    routers=[router, internal],
    consumers=[Consumer(sources=("channel",), handler=on_channel_event, broadcast=True)],
    document_indexes=store.INDEXES,
    on_startup=[store.list_expiring],
    periodic=[timers.TIMERS],
)
