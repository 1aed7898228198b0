"""Reply counts shown on thread parents: a derived copy of the thread service's counts.

The thread service owns a thread's reply count and last reply; this consumer copies them from
its `thread.updated` events onto the parent message, so a channel's history shows them without
asking. Events of one thread arrive in order, so the last one applied is the thread as it is.
"""

from __future__ import annotations

from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.core.service import Consumer
from quckchat.message import logic
from quckchat.thread.events import ThreadUpdated


async def copy_thread_counts(runtime: Runtime, event: Event) -> None:
    """Set the parent's `reply_count` and `last_reply_at` to the thread's (idempotent)."""
    if event.type != ThreadUpdated.type or (thread := ThreadUpdated.parse(event)) is None:
        return
    counts = {"reply_count": thread.reply_count, "last_reply_at": thread.last_reply_at}
    await logic.update(runtime, thread.parent_id, {"$set": counts})


THREAD_COUNTS = Consumer(sources=("thread",), handler=copy_thread_counts)
