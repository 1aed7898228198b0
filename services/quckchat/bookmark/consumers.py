"""Message and channel events: what is gone can no longer be saved or linked.

Each effect only deletes rows of something that no longer exists (and cannot be saved again,
since saving checks with the message service), so a redelivery is harmless on its own: no
`first_delivery` record is needed.
"""

from __future__ import annotations

import re

from sqlalchemy import Delete, delete

from quckchat.bookmark.models import ChannelBookmark, SavedMessage
from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.core.values import ID_PATTERN

_ID = re.compile(ID_PATTERN)
GONE_MESSAGES = frozenset({"message.deleted", "message.expired"})


def _id(value: object) -> str | None:
    return value if isinstance(value, str) and _ID.match(value) else None


def effect_of(event: Event) -> Delete | None:
    """The rows the event makes pointless, or None when it concerns none."""
    if event.type in GONE_MESSAGES and (message_id := _id(event.data.get("message_id"))):
        return delete(SavedMessage).where(SavedMessage.message_id == message_id)
    if event.type == "channel.deleted" and (channel_id := _id(event.data.get("channel_id"))):
        return delete(ChannelBookmark).where(ChannelBookmark.channel_id == channel_id)
    return None


async def on_event(runtime: Runtime, event: Event) -> None:
    """A deleted or expired message leaves the saved lists; a deleted channel its links."""
    if runtime.db is None:
        raise RuntimeError("the bookmark service needs its database")
    if (statement := effect_of(event)) is not None:
        async with runtime.db.session() as session:
            await session.execute(statement)
