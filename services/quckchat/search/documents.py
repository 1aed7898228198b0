"""What search indexes of a message, from the message service's public shape of it."""

from __future__ import annotations

from quckchat.core.search import IndexedMessage, micros
from quckchat.message.events import MessageBody


def document(message: MessageBody) -> IndexedMessage | None:
    """The message as search keeps it; None for a deleted one."""
    if message.deleted:
        return None
    return IndexedMessage(
        id=message.id,
        workspace_id=message.workspace_id,
        channel_id=message.channel_id,
        sender_id=message.sender_id,
        text=message.text,
        created_at=message.created_at,
        # The last change's time orders copies: an edit outranks the original.
        version=micros(message.edited_at or message.created_at),
        parent_id=message.parent_id,
        has_file=bool(message.attachments),
    )
