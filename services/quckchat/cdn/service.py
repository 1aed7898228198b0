"""The cdn service: signed, cached delivery of files, their previews, public links and
proxied images, from the object store."""

from quckchat.cdn import internal_routes, routes, signing, store
from quckchat.core.service import Service

service = Service(
    routers=[internal_routes.router, routes.router],
    document_indexes=store.INDEXES,
    on_startup=[signing.load_key],
)
