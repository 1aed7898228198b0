"""The cdn service's collections: `keys` (the one signing key), `links` (public links, by the
hash of their token) and `proxied` (images the proxy fetched, kept in the object store)."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from quckchat.core.documents import Index

KEYS = "keys"
LINKS = "links"
PROXIED = "proxied"

INDEXES = (
    Index(LINKS, (("token_hash", ASCENDING),), unique=True),
    Index(LINKS, (("file_id", ASCENDING), ("created_at", DESCENDING))),
)


def rendition_key(file_id: str, rendition: str) -> str:
    """Where the media service keeps a file's rendition."""
    return f"media/{file_id}/{rendition}"


def proxied_key(url_hash: str) -> str:
    return f"proxy/{url_hash}"
