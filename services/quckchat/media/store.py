"""The media service's collections: `media` (one record a file, its own outbox entry; a
tombstone once the file is deleted) and `claims` (one document per processing attempt, taken
by the one replica whose insert made it)."""

from __future__ import annotations

from pymongo import ASCENDING

from quckchat.core.documents import Index

MEDIA = "media"
CLAIMS = "media_claims"

INDEXES = (
    Index(MEDIA, (("state", ASCENDING), ("due_at", ASCENDING))),
    Index(MEDIA, (("state", ASCENDING), ("deleted_at", ASCENDING))),
    Index(CLAIMS, (("file_id", ASCENDING),)),
)


def rendition_folder(file_id: str) -> str:
    return f"media/{file_id}/"


def rendition_key(file_id: str, name: str) -> str:
    """Where a rendition's bytes are, in the bucket the file's own bytes are in."""
    return f"{rendition_folder(file_id)}{name}"
