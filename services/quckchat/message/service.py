"""The message service: messages, threads' replies, reactions, receipts, on MongoDB."""

from quckchat.core.runtime import Runtime
from quckchat.core.service import Consumer, Service
from quckchat.message import store, timers
from quckchat.message.consumers import on_channel_event
from quckchat.message.routes import internal, router


async def _indexes(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime)


service = Service(
    routers=[router, internal],
    consumers=[Consumer(sources=("channel",), handler=on_channel_event, broadcast=True)],
    on_startup=[_indexes],
    periodic=[timers.TIMERS],
)
