"""The message service: messages, threads' replies, reactions, receipts, on MongoDB."""

from quckchat.channel import client as channel_client
from quckchat.core.service import Service
from quckchat.message import logic, store, thread_counts, timers
from quckchat.message.routes import internal, router
from quckchat.user import client as user_client

service = Service(
    routers=[router, internal],
    consumers=[
        channel_client.MEMBERSHIP_CACHE,
        user_client.NAME_CACHE,
        thread_counts.THREAD_COUNTS,
    ],
    document_indexes=store.INDEXES,
    document_outboxes=(logic.OUTBOX,),
    on_startup=[store.list_expiring],
    periodic=[timers.TIMERS],
)
