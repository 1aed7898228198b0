"""Documents through PyMongo's asyncio API; the embedded default is an in-process store.

Services use the PyMongo collection API (`await coll.insert_one(...)`, `coll.find(...)`,
`await cursor.to_list(n)`) and never transactions, change streams or `$lookup`: FerretDB, the
MongoDB-protocol server the tests run against, has none of them, and the same code must run
unchanged on MongoDB. FerretDB also applies an update as read-then-write without isolation, so
two concurrent conditional updates (`find_one_and_update` on a version, `$inc`) can both
"succeed" or lose an increment; where exactly one writer must win, `claim` an id instead: a
unique `_id` (or unique index) is enforced by the backend itself.

The embedded store (mongomock behind the same async API) keeps its data in a snapshot file under
the data directory, written every few seconds and on shutdown, so `quckchat run` keeps messages
across restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bson import json_util
from mongomock_motor import AsyncMongoMockClient
from pymongo import AsyncMongoClient, uri_parser
from pymongo.errors import DuplicateKeyError

SNAPSHOT_SECONDS = 5.0


@dataclass(frozen=True)
class Index:
    """An index a service declares on one of its collections; made at every start (making an
    existing index is a no-op)."""

    collection: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False


class Documents:
    """One service's document database: `.db` is a PyMongo-style async database."""

    def __init__(self, url: str | None, database: str, snapshot: Path | None = None) -> None:
        self.embedded = not url
        self.client: Any = (
            AsyncMongoMockClient(tz_aware=True)
            if self.embedded
            else AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000)
        )
        # A database named in the URL wins (tests use a fresh one each); else the service's own.
        named = uri_parser.parse_uri(url)["database"] if url else None
        self.db: Any = self.client[named or database]
        self.snapshot = snapshot if self.embedded else None
        self._saver: asyncio.Task[None] | None = None

    def collection(self, name: str) -> Any:
        return self.db[name]

    async def ensure_indexes(self, indexes: tuple[Index, ...]) -> None:
        for index in indexes:
            await self.db[index.collection].create_index(list(index.keys), unique=index.unique)

    async def start(self) -> None:
        """Load the embedded snapshot and keep it written; nothing to do for a server."""
        if self.snapshot is None:
            return
        if await asyncio.to_thread(self.snapshot.exists):
            await self._load(self.snapshot)
        self._saver = asyncio.create_task(self._save_every(SNAPSHOT_SECONDS))

    async def ping(self) -> None:
        await self.db.command("ping")

    async def close(self) -> None:
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
            await self.save()
        if not self.embedded:
            await self.client.close()

    async def save(self) -> None:
        """Write every collection of the embedded store to the snapshot file, atomically."""
        if self.snapshot is None:
            return
        dump = {}
        for name in await self.db.list_collection_names():
            dump[name] = await self.db[name].find({}).to_list(None)
        await asyncio.to_thread(_write_atomically, self.snapshot, json_util.dumps(dump))

    async def _load(self, path: Path) -> None:
        text = await asyncio.to_thread(path.read_text)
        dump: dict[str, list[dict[str, Any]]] = json_util.loads(text)
        for name, documents in dump.items():
            if documents:
                await self.db[name].insert_many(documents)

    async def _save_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self.save()


def stored_now() -> datetime:
    """The current time as BSON keeps it (milliseconds), so what a write answers equals what a
    read finds."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


async def claim(collection: Any, key: str, **fields: Any) -> bool:
    """Take `key` in `collection` once: True for the one caller whose insert made it."""
    try:
        await collection.insert_one({"_id": key, **fields})
    except DuplicateKeyError:
        return False
    return True


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(text)
    partial.replace(path)
