"""The notification service: the in-app inbox, and delivery by push, email and SMS."""

from quckchat.core.service import Consumer, Service
from quckchat.notification import channels, digest, invites, worker
from quckchat.notification.consumers import on_decision, on_read
from quckchat.notification.routes import router

service = Service(
    routers=[router],
    consumers=[
        Consumer(sources=("notification-orchestrator",), handler=on_decision),
        Consumer(sources=("message", "channel", "thread"), handler=on_read),
        Consumer(sources=("workspace",), handler=invites.on_workspace),
    ],
    periodic=[worker.DELIVER_DUE, digest.SEND_DIGESTS],
    on_shutdown=[channels.close],
)
