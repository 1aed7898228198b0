"""Message and channel events: what is gone can no longer be saved or linked.

Each effect only deletes rows of something that no longer exists (and cannot be saved again,
since saving checks with the message service), so a redelivery is harmless on its own: no
`first_delivery` record is needed.
"""

from __future__ import annotations

import re

from pydantic import ValidationError
from sqlalchemy import Delete, delete

from quckchat.bookmark.models import ChannelBookmark, SavedMessage
from quckchat.channel.events import ChannelDeleted
from quckchat.core import logging as qlog
from quckchat.core.events import Event
from quckchat.core.runtime import Runtime
from quckchat.core.values import ID_PATTERN

log = qlog.get("bookmark.consumers")
_ID = re.compile(ID_PATTERN)
GONE_MESSAGES = frozenset({"message.deleted", "message.expired"})


def _id(value: object) -> str | None:
    return value if isinstance(value, str) and _ID.match(value) else None


def _deleted_channel(event: Event) -> str | None:
    """The id of the channel a channel.deleted event announces; None for an unusable one."""
    try:
        channel_id = _id(ChannelDeleted.of(event).channel_id)
    except ValidationError:
        channel_id = None
    if channel_id is None:
        log.warning("event %s (%s) names no usable channel; ignored", event.id, event.type)
    return channel_id


def effect_of(event: Event) -> Delete | None:
    """The rows the event makes pointless, or None when it concerns none."""
    if event.type in GONE_MESSAGES and (message_id := _id(event.data.get("message_id"))):
        return delete(SavedMessage).where(SavedMessage.message_id == message_id)
    if event.type == ChannelDeleted.type and (channel_id := _deleted_channel(event)):
        return delete(ChannelBookmark).where(ChannelBookmark.channel_id == channel_id)
    return None


async def on_event(runtime: Runtime, event: Event) -> None:
    """A deleted or expired message leaves the saved lists; a deleted channel its links."""
    if runtime.db is None:
        raise RuntimeError("the bookmark service needs its database")
    if (statement := effect_of(event)) is not None:
        async with runtime.db.session() as session:
            await session.execute(statement)
