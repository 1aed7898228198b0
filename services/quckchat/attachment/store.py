"""The attachment service's collections (named apart: a test mesh may share one database).

- `attachment_bindings`: one document per file on a message (`<message id>.<file id>`), a
  derived copy of the message service's messages, fed by its events; `gone` says the file was
  deleted or quarantined, so it is no longer listed or served. Its own outbox entry
  (`published`) for `attachment.bound`.
- `attachment_removed`: messages deleted or expired; a late `message.created` binds nothing.
- `attachment_unbound`: the bindings those messages ended (same ids), kept as the outbox
  entries of `attachment.unbound`.
- `attachment_gone_files`: files deleted or quarantined; a late binding is marked at once. Each
  the outbox entry of its `attachment.hidden`.
- `attachment_releases`: a file that may have lost its last message (`<file id>.<message id>`),
  decided by the release job once `due_at` passes.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from quckchat.core.documents import Index

BINDINGS = "attachment_bindings"
REMOVED = "attachment_removed"
UNBOUND = "attachment_unbound"
GONE_FILES = "attachment_gone_files"
RELEASES = "attachment_releases"

INDEXES = (
    Index(
        BINDINGS,
        (
            ("channel_id", ASCENDING),
            ("gone", ASCENDING),
            ("created_at", DESCENDING),
            ("_id", DESCENDING),
        ),
    ),
    Index(BINDINGS, (("file_id", ASCENDING), ("gone", ASCENDING))),
    Index(BINDINGS, (("message_id", ASCENDING),)),
    Index(RELEASES, (("due_at", ASCENDING),)),
)


def binding_id(message_id: str, file_id: str) -> str:
    return f"{message_id}.{file_id}"


def release_id(file_id: str, message_id: str) -> str:
    return f"{file_id}.{message_id}"
