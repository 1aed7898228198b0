"""The attachment service: binds files to messages (checked when sent, recorded from the
message service's events), lists a channel's files, and gives a file back once no message
carries it, on MongoDB."""

from quckchat.attachment import bindings, store
from quckchat.attachment.routes import internal, router
from quckchat.channel import client as channel_client
from quckchat.core.service import Consumer, Service

service = Service(
    routers=[router, internal],
    consumers=[
        Consumer(sources=("message", "file"), handler=bindings.on_event),
        channel_client.MEMBERSHIP_CACHE,
    ],
    document_indexes=store.INDEXES,
    document_outboxes=bindings.OUTBOXES,
    periodic=[bindings.RELEASE_JOB],
)
