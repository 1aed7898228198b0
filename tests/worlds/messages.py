"""Messages as the message service publishes them, for tests that feed its consumers by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from quckchat.core.sql import new_id
from quckchat.message.events import MessageBody


def message_body(**fields: Any) -> MessageBody:
    """A live top-level message; `fields` override any of its values."""
    values: dict[str, Any] = {
        "id": new_id(),
        "channel_id": "c1",
        "workspace_id": "w1",
        "seq": 1,
        "sender_id": "u1",
        "text": "hello",
        "mentions": [],
        "mention_channel": False,
        "parent_id": None,
        "reply_count": 0,
        "last_reply_at": None,
        "quote": None,
        "forwarded": None,
        "attachments": [],
        "reactions": {},
        "edited_at": None,
        "deleted": False,
        "created_at": datetime.now(UTC),
        "expires_at": None,
    }
    return MessageBody.model_validate({**values, **fields})
