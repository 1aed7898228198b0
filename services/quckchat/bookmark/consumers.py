"""Message and channel events: what is gone can no longer be saved or linked.

Each effect only deletes rows of something that no longer exists (and cannot be saved again,
since saving checks with the message service), so a redelivery is harmless on its own: no
`first_delivery` record is needed.
"""

from __future__ import annotations

from sqlalchemy import Delete, delete

from quckchat.bookmark.models import ChannelBookmark, SavedMessage
from quckchat.channel.events import ChannelDeleted
from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.message.events import GONE


def effect_of(event: Event) -> Delete | None:
    """The rows the event makes pointless, or None when it concerns none (or is unusable)."""
    if (gone := GONE.get(event.type)) is not None and (removed := gone.parse(event)):
        return delete(SavedMessage).where(SavedMessage.message_id == removed.message_id)
    if event.type == ChannelDeleted.type and (deleted := ChannelDeleted.parse(event)):
        return delete(ChannelBookmark).where(ChannelBookmark.channel_id == deleted.channel_id)
    return None


async def on_event(runtime: Runtime, event: Event) -> None:
    """A deleted or expired message leaves the saved lists; a deleted channel its links."""
    if runtime.db is None:
        raise RuntimeError("the bookmark service needs its database")
    if (statement := effect_of(event)) is not None:
        async with runtime.db.session() as session:
            await session.execute(statement)
