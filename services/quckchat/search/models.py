"""The search service's tables: handled events, removed messages, and the SQL index."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from quckchat.core.events import processed_events_table
from quckchat.core.search import messages_table
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
