"""The presence service: online, away, do-not-disturb, last seen and typing."""

from quckchat.channel import client as channel_client
from quckchat.core.service import Service
from quckchat.presence import announce, store, sweeper
from quckchat.presence.routes import internal, router

service = Service(
    routers=[router, internal],
    # Typing checks channel membership; every replica drops its cached answers on a change.
    consumers=[channel_client.MEMBERSHIP_CACHE],
    document_indexes=store.INDEXES,
    document_outboxes=(announce.OUTBOX,),
    periodic=[sweeper.SWEEPS],
)
