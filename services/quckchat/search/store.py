"""The search service's backends (chosen at startup: the messages' and the files' beside them)
and its record of removed messages."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Insert, insert, select
from sqlalchemy.exc import IntegrityError

from quckchat.core.runtime import Runtime
from quckchat.core.search import (
    ElasticsearchBackend,
    FileIndex,
    SearchBackend,
    backend_for,
    file_index_for,
)
from quckchat.core.settings import Settings
from quckchat.core.sql import Database, is_unique_violation, utcnow
from quckchat.search.models import files, messages, removed

STATE_KEY = "search.backend"
FILES_KEY = "search.files"


def backend(runtime: Runtime) -> SearchBackend:
    found: SearchBackend = runtime.state[STATE_KEY]
    return found


def file_index(runtime: Runtime) -> FileIndex:
    found: FileIndex = runtime.state[FILES_KEY]
    return found


def index_prefix(settings: Settings) -> str:
    """What keeps platforms sharing one cluster apart: `search_index_prefix`, else (as before
    that setting) the Kafka topic prefix, so existing indexes keep their names."""
    if settings.search_index_prefix is None:
        return settings.kafka_topic_prefix
    return settings.search_index_prefix


def index_for(settings: Settings, db: Database | None) -> SearchBackend:
    """Elasticsearch when `elasticsearch_url` is set, else the service's own database."""
    return backend_for(
        settings.elasticsearch_url, db=db, table=messages, prefix=index_prefix(settings)
    )


def file_index_of(settings: Settings, db: Database | None) -> FileIndex:
    """Where `index_for` keeps messages, files beside them."""
    return file_index_for(
        settings.elasticsearch_url, db=db, table=files, prefix=index_prefix(settings)
    )


async def open_backend(runtime: Runtime) -> None:
    """At startup: the indexes the settings name; Elasticsearch joins the health checks."""
    chosen = index_for(runtime.settings, runtime.db)
    await chosen.start()
    runtime.state[STATE_KEY] = chosen
    chosen_files = file_index_of(runtime.settings, runtime.db)
    await chosen_files.start()
    runtime.state[FILES_KEY] = chosen_files
    if isinstance(chosen, ElasticsearchBackend):
        runtime.extra_checks["elasticsearch"] = chosen.ping


async def close_backend(runtime: Runtime) -> None:
    for key in (STATE_KEY, FILES_KEY):
        found = runtime.state.pop(key, None)
        if found is not None:
            await found.close()


async def insert_once(db: Database, statement: Insert) -> None:
    """Run the insert; a row already there (a repeat, or another replica's) is no error."""
    try:
        async with db.session() as session:
            await session.execute(statement)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise


async def mark_removed(db: Database, message_id: str) -> None:
    await insert_once(db, insert(removed).values(message_id=message_id, removed_at=utcnow()))


async def removed_among(db: Database, ids: Iterable[str]) -> set[str]:
    wanted = list(ids)
    if not wanted:
        return set()
    async with db.session() as session:
        query = select(removed.c.message_id).where(removed.c.message_id.in_(wanted))
        return set((await session.scalars(query)).all())
