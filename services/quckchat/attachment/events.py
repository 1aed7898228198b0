"""The events the attachment service produces, keyed by file id: a file was bound to a message
(`attachment.bound`), a binding ended with its message (`attachment.unbound`), a file is no
longer shown anywhere, deleted or quarantined (`attachment.hidden`).

Keyed by file id, not binding id: `hidden` is a fact of the file, and one key puts it in the
partition of the file's bindings, so a consumer sees a file's events in the order they were
announced; the search service joins them by file id with the media service's extracted text.
Consumers must still take them in any order (two replicas announce at once, a relay repeats an
event later): each carries what its consumer needs without asking, under a stable event id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from quckchat.core.events import DomainEvent

Reason = Literal["deleted", "quarantined"]


class AttachmentEvent(DomainEvent):
    file_id: str

    @property
    def key(self) -> str:
        return self.file_id


class AttachmentBound(AttachmentEvent):
    """A message carries the file: listed in its channel from now on (`binding_id` is
    `<message id>.<file id>`: a file forwarded is bound once per message)."""

    type: ClassVar[str] = "attachment.bound"
    binding_id: str
    message_id: str
    workspace_id: str
    channel_id: str
    sender_id: str
    name: str
    size: int
    content_type: str
    created_at: datetime

    @classmethod
    def of_binding(cls, doc: dict[str, Any]) -> AttachmentBound:
        return cls(
            binding_id=doc["_id"],
            **{f: doc[f] for f in cls.model_fields if f != "binding_id"},
        )


class AttachmentUnbound(AttachmentEvent):
    """The message is gone (deleted or expired): the binding is no longer listed."""

    type: ClassVar[str] = "attachment.unbound"
    binding_id: str
    message_id: str
    channel_id: str


class AttachmentHidden(AttachmentEvent):
    """The file was deleted or quarantined: none of its bindings, made before or after, is
    listed or served again."""

    type: ClassVar[str] = "attachment.hidden"
    reason: Reason
