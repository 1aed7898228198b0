"""The search service's tables: handled events, removed messages, the SQL index, and the files
it keeps to index: derived copies of the attachment service's bindings and the media service's
extracted texts, joined here by file id, and what was removed of them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table, Text

from quckchat.core.events import processed_events_table
from quckchat.core.search import LongText, files_table, messages_table
from quckchat.core.sql import UTCDateTime, new_metadata

metadata = new_metadata()
processed_events = processed_events_table(metadata, "search_processed_events")
# The SQL backend's index (empty when Elasticsearch holds it).
messages = messages_table(metadata, "search_messages")
# Messages deleted or expired: a late or replayed copy never brings them back.
removed = Table(
    "search_removed",
    metadata,
    Column("message_id", String(64), primary_key=True),
    Column("removed_at", UTCDateTime(), nullable=False),
)
# The SQL backend's index of files (empty when Elasticsearch holds it).
files = files_table(metadata, "search_files")
# A derived copy of the attachment service's bindings (`attachment.bound`), by binding id.
file_bindings = Table(
    "search_file_bindings",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("file_id", String(64), nullable=False, index=True),
    Column("message_id", String(64), nullable=False),
    Column("workspace_id", String(64), nullable=False),
    Column("channel_id", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
)
# A derived copy of the media service's extracted texts (`media.processed`), by file id.
file_texts = Table(
    "search_file_texts",
    metadata,
    Column("file_id", String(64), primary_key=True),
    Column("text", LongText, nullable=False),
    Column("stored_at", UTCDateTime(), nullable=False),
)
# Bindings unbound and files hidden (`kind` says which the id is): nothing late brings them back.
files_removed = Table(
    "search_files_removed",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("removed_at", UTCDateTime(), nullable=False),
)
