"""The events the media service produces, keyed by file id: a file's processing is over (its
renditions, placeholder and text, or why there are none), and its renditions were dropped.
Each is made from the record as it is when its state changes (`event_of`)."""

from __future__ import annotations

import json
from bisect import bisect_right
from itertools import accumulate
from typing import Any, ClassVar, Self

from quckchat.core.events import DomainEvent
from quckchat.media.schemas import MediaState

# Text in an event, as JSON-encoded bytes (non-ASCII is escaped: up to 12 bytes a character):
# Kafka refuses messages over 1 MB by default, and 100 kB, a few dozen pages, is plenty to find
# a document by; the record keeps the length of all that was extracted.
TEXT_EVENT_BYTES = 100_000


def capped_text(text: str, budget: int = TEXT_EVENT_BYTES) -> str:
    """The longest start of `text` whose JSON encoding takes at most `budget` bytes."""
    if len(json.dumps(text)) - 2 <= budget:
        return text
    head = text[:budget]  # every character takes at least one byte
    sizes = list(accumulate(len(json.dumps(c)) - 2 for c in head))
    return head[: bisect_right(sizes, budget)]


class MediaEvent(DomainEvent):
    file_id: str
    workspace_id: str
    uploader_id: str

    @property
    def key(self) -> str:
        return self.file_id

    @classmethod
    def of_record(cls, doc: dict[str, Any], **fields: Any) -> Self:
        return cls.model_validate(
            {
                "file_id": doc["_id"],
                "workspace_id": doc["workspace_id"],
                "uploader_id": doc["uploader_id"],
                **fields,
            }
        )


class MediaProcessed(MediaEvent):
    """Processing is over: `state` processed (renditions made), generic (none could be, `reason`
    says why) or failed. `text` is what was extracted for search, capped (`TEXT_EVENT_BYTES`)."""

    type: ClassVar[str] = "media.processed"
    state: MediaState
    reason: str | None = None
    kind: str
    renditions: list[str]
    blurhash: str | None = None
    text: str | None = None
    text_truncated: bool = False


class MediaDropped(MediaEvent):
    """The file's renditions were deleted on request (the file stays)."""

    type: ClassVar[str] = "media.dropped"


DONE = frozenset({MediaState.PROCESSED, MediaState.GENERIC, MediaState.FAILED})


def event_of(doc: dict[str, Any]) -> MediaEvent | None:
    """The event of the record's current state; None for a state announced by none."""
    if doc["state"] in DONE:
        return MediaProcessed.of_record(
            doc,
            state=doc["state"],
            reason=doc.get("reason"),
            kind=doc["kind"],
            renditions=[r["name"] for r in doc.get("renditions", [])],
            blurhash=doc.get("blurhash"),
            text=doc.get("text"),
            text_truncated=doc.get("text_truncated", False),
        )
    if doc["state"] == MediaState.DROPPED:
        return MediaDropped.of_record(doc)
    return None
