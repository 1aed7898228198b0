"""The file service's collections: `files` (one document a file, its own outbox entry),
`policies` (one a workspace that changed its limits) and `retention` (one a workspace that keeps
files for a limited time: a copy of its setting, fed by the workspace service's events)."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from quckchat.core.documents import Index

FILES = "files"
POLICIES = "policies"
RETENTION = "retention"

INDEXES = (
    Index(FILES, (("uploader_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING))),
    Index(FILES, (("workspace_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING))),
    Index(FILES, (("state", ASCENDING), ("retry_at", ASCENDING))),
    Index(FILES, (("workspace_id", ASCENDING), ("state", ASCENDING), ("created_at", ASCENDING))),
)


def object_key(tenant: str, workspace_id: str, file_id: str) -> str:
    return f"files/{tenant}/{workspace_id}/{file_id}"
