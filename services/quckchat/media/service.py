"""The media service: previews of the files the file service makes ready (thumbnails, posters,
blurhash placeholders, text for search), on MongoDB and the object store."""

from quckchat.core.periodic import Periodic
from quckchat.core.service import Consumer, Service
from quckchat.media import internal_routes, records, store, work
from quckchat.media.routes import router

service = Service(
    routers=[internal_routes.router, router],
    consumers=[Consumer(sources=("file",), handler=work.on_file_event)],
    document_indexes=store.INDEXES,
    document_outboxes=(records.OUTBOX,),
    periodic=[
        work.PROCESSING,
        Periodic("media upkeep", 3600.0, (work.forget_tombstones,)),
    ],
)
