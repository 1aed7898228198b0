"""The presence service: online, away, do-not-disturb, last seen and typing."""

from quckchat.core.service import Service
from quckchat.presence import store, sweeper
from quckchat.presence.routes import internal, router

service = Service(
    routers=[router, internal], document_indexes=store.INDEXES, periodic=[sweeper.SWEEPS]
)
