"""What search indexes of a message, from the message service's public shape of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quckchat.core.search import IndexedMessage, micros


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def document(message: Any) -> IndexedMessage | None:
    """The message as search keeps it; None for a deleted or malformed one."""
    if not isinstance(message, dict) or message.get("deleted"):
        return None
    fields = [message.get(k) for k in ("id", "workspace_id", "channel_id", "sender_id")]
    created = _time(message.get("created_at"))
    if created is None or not all(isinstance(f, str) and f for f in fields):
        return None
    edited = _time(message.get("edited_at"))
    parent = message.get("parent_id")
    return IndexedMessage(
        id=str(fields[0]),
        workspace_id=str(fields[1]),
        channel_id=str(fields[2]),
        sender_id=str(fields[3]),
        text=str(message.get("text") or ""),
        created_at=created,
        # The last change's time orders copies: an edit outranks the original.
        version=micros(edited or created),
        parent_id=parent if isinstance(parent, str) else None,
        has_file=bool(message.get("attachments")),
    )
