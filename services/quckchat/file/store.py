"""The file service's collections: `files` (one document a file, its own outbox entry) and
`policies` (one a workspace that changed its limits)."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from quckchat.core.documents import Index

FILES = "files"
POLICIES = "policies"

INDEXES = (
    Index(FILES, (("uploader_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING))),
    Index(FILES, (("workspace_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING))),
    Index(FILES, (("state", ASCENDING), ("retry_at", ASCENDING))),
)


def object_key(tenant: str, workspace_id: str, file_id: str) -> str:
    return f"files/{tenant}/{workspace_id}/{file_id}"
