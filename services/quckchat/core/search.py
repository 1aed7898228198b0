"""Full-text search backends: Elasticsearch in production, SQL for `make run`, one interface.

Both index the same `IndexedMessage` and answer the same `SearchQuery` with the same order
(newest first, message id breaking ties), so a cursor means the same on either. Words match
whole tokens case-insensitively (Elasticsearch's `standard` analyzer; the SQL backend keeps a
normalized copy of the text and matches space-delimited tokens with LIKE, portable to SQLite,
MySQL and PostgreSQL). Each document carries a version (its last edit's time): an older copy
never overwrites a newer one, whichever arrives last.

Files attached to messages (`IndexedFile`, one per file and message) have an index of their
own beside the messages', on the same machinery: found within one channel by a part of the
name (in any case) or by all the words of the query in the name or the file's extracted text.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from elasticsearch import AsyncElasticsearch, NotFoundError
from elasticsearch.exceptions import BadRequestError
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Index,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    or_,
    select,
)
from sqlalchemy.dialects.mysql import MEDIUMTEXT

from quckchat.core.sql import Database

SNIPPET_CHARS = 200
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
_TOKEN = re.compile(r"\w+", re.UNICODE)
_LINK = re.compile(r"https?://\S", re.IGNORECASE)


@dataclass(frozen=True)
class IndexedMessage:
    """What search keeps of a message."""

    id: str
    workspace_id: str
    channel_id: str
    sender_id: str
    text: str
    created_at: datetime
    version: int
    parent_id: str | None = None
    has_file: bool = False

    @property
    def has_link(self) -> bool:
        return _LINK.search(self.text) is not None

    @property
    def is_thread(self) -> bool:
        return self.parent_id is not None


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: words and phrases all must match; filters narrow further."""

    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    has_link: bool = False
    has_file: bool = False
    is_thread: bool = False
    # Microseconds since the epoch, UTC: created_at >= since and < until.
    since: int | None = None
    until: int | None = None


@dataclass(frozen=True)
class Scope:
    """Where to look: one workspace, only in these channels (the asker's readable ones)."""

    workspace_id: str
    channel_ids: frozenset[str]


@dataclass(frozen=True)
class Hit:
    id: str
    channel_id: str
    sender_id: str
    created_at: datetime
    snippet: str
    # The sort key: (microseconds, id); the next page starts after the last hit's.
    position: tuple[int, str] = field(repr=False)


@dataclass(frozen=True)
class IndexedFile:
    """What search keeps of a file on a message: its name, and the text extracted from it
    once there is some."""

    id: str  # the binding's: `<message id>.<file id>`
    workspace_id: str
    channel_id: str
    file_id: str
    message_id: str
    name: str
    created_us: int  # its message's time, in microseconds since the epoch
    text: str | None = None

    @property
    def version(self) -> int:
        """A copy with the text outranks one without, whichever is written last."""
        return 1 if self.text is None else 2

    @property
    def searched(self) -> str:
        """What words are matched in: the name, then the text."""
        return self.name if self.text is None else f"{self.name}\n{self.text}"


@dataclass(frozen=True)
class FileHit:
    id: str
    file_id: str
    message_id: str
    position: tuple[int, str] = field(repr=False)


def micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def tokens(text: str) -> list[str]:
    """Lowercase word tokens, as the `standard` analyzer makes them (close enough for Latin)."""
    return [t.lower() for t in _TOKEN.findall(text)]


def normalized(text: str) -> str:
    """The tokens between single spaces, padded, so ` word ` finds a whole token with LIKE."""
    return f" {' '.join(tokens(text))} "


def highlight(text: str, query: SearchQuery, size: int = SNIPPET_CHARS) -> str:
    """HTML-escaped text around the first match, the query's words and phrases in <mark>."""
    patterns = [r"\s+".join(re.escape(t) for t in tokens(p)) for p in query.phrases]
    patterns += [re.escape(w) for w in query.words]
    patterns = [p for p in patterns if p]
    if not patterns:
        return html.escape(text[:size])
    matcher = re.compile(
        r"(?<!\w)(" + "|".join(sorted(patterns, key=len, reverse=True)) + r")(?!\w)",
        re.IGNORECASE | re.UNICODE,
    )
    first = matcher.search(text)
    start = max(0, (first.start() if first else 0) - size // 4)
    window = text[start : start + size]
    out, last = [], 0
    for match in matcher.finditer(window):
        out.append(html.escape(window[last : match.start()]))
        out.append(MARK_OPEN + html.escape(match.group(0)) + MARK_CLOSE)
        last = match.end()
    out.append(html.escape(window[last:]))
    return "".join(out)


class SearchBackend(Protocol):
    """Where messages are indexed and searched. `generation` names a rebuild in progress."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...

    async def index(self, docs: Sequence[IndexedMessage], *, generation: str | None = None) -> None:
        """Add or replace documents (a newer stored version wins)."""

    async def remove(self, ids: Sequence[str], *, generation: str | None = None) -> None: ...

    async def search(
        self, query: SearchQuery, scope: Scope, *, limit: int, after: tuple[int, str] | None
    ) -> list[Hit]: ...

    async def workspaces(self) -> list[str]:
        """Every workspace with something indexed."""

    async def indexed_ids(
        self, workspace_id: str, *, generation: str | None = None
    ) -> set[str]: ...

    async def begin_rebuild(self) -> str | None:
        """Start an empty generation to fill (None: this backend rebuilds in place)."""

    async def finish_rebuild(self, generation: str) -> None:
        """Serve searches and writes from the generation; drop the one it replaces."""


class FileIndex(Protocol):
    """Where files on messages are indexed and searched, beside the messages."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...

    async def index(self, docs: Sequence[IndexedFile], *, generation: str | None = None) -> None:
        """Add or replace documents (a newer stored version wins)."""

    async def remove(self, ids: Sequence[str], *, generation: str | None = None) -> None: ...

    async def search(
        self, channel_id: str, text: str, *, limit: int, after: tuple[int, str] | None
    ) -> list[FileHit]:
        """The channel's files whose name holds `text` or whose name and text hold all its
        words, newest first."""

    async def indexed_ids(self, *, generation: str | None = None) -> set[str]: ...
    async def begin_rebuild(self) -> str | None: ...
    async def finish_rebuild(self, generation: str) -> None: ...


# The SQL backend.


def messages_table(metadata: MetaData, name: str = "search_messages") -> Table:
    return Table(
        name,
        metadata,
        Column("id", String(64), primary_key=True),
        Column("workspace_id", String(64), nullable=False),
        Column("channel_id", String(64), nullable=False),
        Column("sender_id", String(64), nullable=False),
        Column("parent_id", String(64), nullable=True),
        Column("text", Text, nullable=False),
        # Lowercase tokens between spaces: what words and phrases are matched against.
        Column("terms", Text, nullable=False),
        Column("created_us", BigInteger, nullable=False),
        Column("version", BigInteger, nullable=False),
        Column("has_link", Boolean, nullable=False),
        Column("has_file", Boolean, nullable=False),
        Index(f"ix_{name}_workspace_id_created_us", "workspace_id", "created_us", "id"),
        Index(f"ix_{name}_channel_id", "channel_id"),
    )


# A file's extracted text may reach 100 kB: beyond MySQL's 64 KiB TEXT.
LongText = Text().with_variant(MEDIUMTEXT(), "mysql", "mariadb")


def files_table(metadata: MetaData, name: str = "search_files") -> Table:
    return Table(
        name,
        metadata,
        Column("id", String(128), primary_key=True),
        Column("workspace_id", String(64), nullable=False),
        Column("channel_id", String(64), nullable=False),
        Column("file_id", String(64), nullable=False),
        Column("message_id", String(64), nullable=False),
        # The name in lower case: what a part of the name is matched against.
        Column("name_key", Text, nullable=False),
        Column("terms", LongText, nullable=False),
        Column("created_us", BigInteger, nullable=False),
        Column("version", BigInteger, nullable=False),
        Index(f"ix_{name}_channel_id_created_us", "channel_id", "created_us", "id"),
    )


def _escaped(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _like(phrase_tokens: list[str]) -> str:
    return f"% {_escaped(' '.join(phrase_tokens))} %"


def _before(t: Table, after: tuple[int, str] | None) -> list[ColumnElement[bool]]:
    """The keyset condition of the page after `after` (newest first)."""
    if after is None:
        return []
    us, ident = after
    return [or_(t.c.created_us < us, and_(t.c.created_us == us, t.c.id < ident))]


class _SqlIndex:
    """Documents in a table of the service's own database, each replaced only by a copy of
    the same or a newer version; rebuilt in place."""

    def __init__(self, db: Database, table: Table) -> None:
        self.db = db
        self.table = table

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _row(self, doc: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def _upsert(self, docs: Sequence[IndexedMessage] | Sequence[IndexedFile]) -> None:
        t = self.table
        if not docs:
            return
        async with self.db.session() as session:
            found = await session.execute(
                select(t.c.id, t.c.version).where(t.c.id.in_([d.id for d in docs]))
            )
            stored = dict(found.all())
            for doc in docs:
                if doc.id not in stored:
                    await session.execute(t.insert().values(self._row(doc)))
                elif stored[doc.id] <= doc.version:
                    await session.execute(t.update().where(t.c.id == doc.id).values(self._row(doc)))

    async def remove(self, ids: Sequence[str], *, generation: str | None = None) -> None:
        if ids:
            async with self.db.session() as session:
                await session.execute(delete(self.table).where(self.table.c.id.in_(list(ids))))

    async def begin_rebuild(self) -> str | None:
        return None

    async def finish_rebuild(self, generation: str) -> None:
        return None


class SqlBackend(_SqlIndex):
    """Search in the service's own database: token LIKE over a normalized copy of the text."""

    def _row(self, doc: IndexedMessage) -> dict[str, Any]:
        return {
            "id": doc.id,
            "workspace_id": doc.workspace_id,
            "channel_id": doc.channel_id,
            "sender_id": doc.sender_id,
            "parent_id": doc.parent_id,
            "text": doc.text,
            "terms": normalized(doc.text),
            "created_us": micros(doc.created_at),
            "version": doc.version,
            "has_link": doc.has_link,
            "has_file": doc.has_file,
        }

    async def index(self, docs: Sequence[IndexedMessage], *, generation: str | None = None) -> None:
        await self._upsert(docs)

    async def search(
        self, query: SearchQuery, scope: Scope, *, limit: int, after: tuple[int, str] | None
    ) -> list[Hit]:
        t = self.table
        channels = set(scope.channel_ids)
        if query.channels:
            channels &= set(query.channels)
        if not channels:
            return []
        where: list[ColumnElement[bool]] = [
            t.c.workspace_id == scope.workspace_id,
            t.c.channel_id.in_(sorted(channels)),
        ]
        for word in query.words:
            where.append(t.c.terms.like(_like([word]), escape="!"))
        for phrase in query.phrases:
            where.append(t.c.terms.like(_like(tokens(phrase)), escape="!"))
        if query.senders:
            where.append(t.c.sender_id.in_(query.senders))
        if query.has_link:
            where.append(t.c.has_link.is_(True))
        if query.has_file:
            where.append(t.c.has_file.is_(True))
        if query.is_thread:
            where.append(t.c.parent_id.is_not(None))
        if query.since is not None:
            where.append(t.c.created_us >= query.since)
        if query.until is not None:
            where.append(t.c.created_us < query.until)
        where += _before(t, after)
        statement = (
            select(t.c.id, t.c.channel_id, t.c.sender_id, t.c.text, t.c.created_us)
            .where(*where)
            .order_by(t.c.created_us.desc(), t.c.id.desc())
            .limit(limit)
        )
        async with self.db.session() as session:
            rows = (await session.execute(statement)).all()
        return [
            Hit(
                id=row.id,
                channel_id=row.channel_id,
                sender_id=row.sender_id,
                created_at=datetime.fromtimestamp(row.created_us / 1_000_000, UTC),
                snippet=highlight(row.text, query),
                position=(row.created_us, row.id),
            )
            for row in rows
        ]

    async def workspaces(self) -> list[str]:
        async with self.db.session() as session:
            found = await session.scalars(select(self.table.c.workspace_id).distinct())
            return sorted(found.all())

    async def indexed_ids(self, workspace_id: str, *, generation: str | None = None) -> set[str]:
        query = select(self.table.c.id).where(self.table.c.workspace_id == workspace_id)
        async with self.db.session() as session:
            return set((await session.scalars(query)).all())


class SqlFiles(_SqlIndex):
    """Files in the service's own database: LIKE over the lowered name and the tokens."""

    def _row(self, doc: IndexedFile) -> dict[str, Any]:
        return {
            "id": doc.id,
            "workspace_id": doc.workspace_id,
            "channel_id": doc.channel_id,
            "file_id": doc.file_id,
            "message_id": doc.message_id,
            "name_key": doc.name.lower(),
            "terms": normalized(doc.searched),
            "created_us": doc.created_us,
            "version": doc.version,
        }

    async def index(self, docs: Sequence[IndexedFile], *, generation: str | None = None) -> None:
        await self._upsert(docs)

    async def search(
        self, channel_id: str, text: str, *, limit: int, after: tuple[int, str] | None
    ) -> list[FileHit]:
        t = self.table
        matches: list[ColumnElement[bool]] = [
            t.c.name_key.like(f"%{_escaped(text.lower())}%", escape="!")
        ]
        if words := tokens(text):
            matches.append(and_(*(t.c.terms.like(_like([w]), escape="!") for w in words)))
        statement = (
            select(t.c.id, t.c.file_id, t.c.message_id, t.c.created_us)
            .where(t.c.channel_id == channel_id, or_(*matches), *_before(t, after))
            .order_by(t.c.created_us.desc(), t.c.id.desc())
            .limit(limit)
        )
        async with self.db.session() as session:
            rows = (await session.execute(statement)).all()
        return [FileHit(r.id, r.file_id, r.message_id, (r.created_us, r.id)) for r in rows]

    async def indexed_ids(self, *, generation: str | None = None) -> set[str]:
        async with self.db.session() as session:
            return set((await session.scalars(select(self.table.c.id))).all())


# The Elasticsearch backend.

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "workspace_id": {"type": "keyword"},
        "channel_id": {"type": "keyword"},
        "sender_id": {"type": "keyword"},
        "parent_id": {"type": "keyword"},
        "text": {"type": "text", "analyzer": "standard"},
        "created_us": {"type": "long"},
        "has_link": {"type": "boolean"},
        "has_file": {"type": "boolean"},
        "is_thread": {"type": "boolean"},
    },
}
PAGE = 5_000


class _AliasedIndex:
    """An Elasticsearch index behind an alias; a rebuild fills a new index, then moves the
    alias."""

    mappings: ClassVar[dict[str, Any]]

    def __init__(self, url: str, *, name: str, prefix: str = "", replicas: int | None = None):
        self.client = AsyncElasticsearch(url)
        self.alias = f"{prefix.lower()}{name}"
        self.replicas = replicas

    async def _create(self, name: str, *, aliased: bool) -> None:
        settings: dict[str, Any] = {"number_of_shards": 1}
        if self.replicas is not None:
            settings["number_of_replicas"] = self.replicas
        aliases = {self.alias: {"is_write_index": True}} if aliased else None
        await self.client.indices.create(
            index=name, mappings=self.mappings, settings=settings, aliases=aliases
        )

    async def start(self) -> None:
        """Make the first index with its alias; replicas starting together make it once."""
        if await self.client.indices.exists_alias(name=self.alias):
            return
        try:
            await self._create(f"{self.alias}-0", aliased=True)
        except BadRequestError as exc:
            if exc.error != "resource_already_exists_exception":
                raise

    async def close(self) -> None:
        await self.client.close()

    async def ping(self) -> None:
        await self.client.cluster.health()

    async def _bulk(self, operations: list[dict[str, Any]]) -> None:
        if not operations:
            return
        answer = await self.client.bulk(operations=operations)
        if not answer["errors"]:
            return
        for item in answer["items"]:
            outcome = next(iter(item.values()))
            # 409: a newer version is stored already; 404: deleting what is gone.
            if outcome.get("error") and outcome.get("status") not in (404, 409):
                raise RuntimeError(f"elasticsearch refused a write: {outcome['error']}")

    async def _write(
        self, docs: Sequence[tuple[str, int, dict[str, Any]]], generation: str | None
    ) -> None:
        """Index (id, version, source) triples; a stored newer version stays."""
        target = generation or self.alias
        operations: list[dict[str, Any]] = []
        for ident, version, source in docs:
            operations.append(
                {
                    "index": {
                        "_index": target,
                        "_id": ident,
                        "version": version,
                        "version_type": "external_gte",
                    }
                }
            )
            operations.append(source)
        await self._bulk(operations)

    async def remove(self, ids: Sequence[str], *, generation: str | None = None) -> None:
        target = generation or self.alias
        await self._bulk([{"delete": {"_index": target, "_id": i}} for i in ids])

    async def refresh(self) -> None:
        """Make every write so far searchable now (tests and benchmarks; the index does it
        within a second on its own)."""
        await self.client.indices.refresh(index=self.alias)

    async def _ids(self, query: dict[str, Any], generation: str | None) -> set[str]:
        found: set[str] = set()
        after: list[Any] | None = None
        while True:
            answer = await self.client.search(
                index=generation or self.alias,
                query=query,
                sort=[{"id": "asc"}],
                search_after=after,
                size=PAGE,
                source=False,
                track_total_hits=False,
            )
            hits = answer["hits"]["hits"]
            found.update(h["_id"] for h in hits)
            if len(hits) < PAGE:
                return found
            after = hits[-1]["sort"]

    async def _current(self) -> list[str]:
        try:
            return sorted(await self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []

    async def begin_rebuild(self) -> str | None:
        name = f"{self.alias}-{uuid.uuid4().hex[:12]}"
        await self._create(name, aliased=False)
        return name

    async def finish_rebuild(self, generation: str) -> None:
        """Move the alias in one atomic step, so no search sees neither index or both."""
        await self.client.indices.refresh(index=generation)
        old = [i for i in await self._current() if i != generation]
        actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": self.alias}} for i in old]
        actions.append({"add": {"index": generation, "alias": self.alias, "is_write_index": True}})
        await self.client.indices.update_aliases(actions=actions)
        for index in old:
            await self.client.indices.delete(index=index, ignore_unavailable=True)

    async def drop(self) -> None:
        """Delete every index behind the alias (tests clean up with this)."""
        for index in await self._current():
            await self.client.indices.delete(index=index, ignore_unavailable=True)


class ElasticsearchBackend(_AliasedIndex):
    """Messages in an index behind an alias."""

    mappings = MAPPINGS

    def __init__(self, url: str, *, prefix: str = "", replicas: int | None = None) -> None:
        super().__init__(url, name="quckchat-messages", prefix=prefix, replicas=replicas)

    async def index(self, docs: Sequence[IndexedMessage], *, generation: str | None = None) -> None:
        sources = [(d.id, d.version, self._source(d)) for d in docs]
        await self._write(sources, generation)

    @staticmethod
    def _source(doc: IndexedMessage) -> dict[str, Any]:
        return {
            "id": doc.id,
            "workspace_id": doc.workspace_id,
            "channel_id": doc.channel_id,
            "sender_id": doc.sender_id,
            "parent_id": doc.parent_id,
            "text": doc.text,
            "created_us": micros(doc.created_at),
            "has_link": doc.has_link,
            "has_file": doc.has_file,
            "is_thread": doc.is_thread,
        }

    async def search(
        self, query: SearchQuery, scope: Scope, *, limit: int, after: tuple[int, str] | None
    ) -> list[Hit]:
        channels = set(scope.channel_ids)
        if query.channels:
            channels &= set(query.channels)
        if not channels:
            return []
        filters: list[dict[str, Any]] = [
            {"term": {"workspace_id": scope.workspace_id}},
            {"terms": {"channel_id": sorted(channels)}},
        ]
        if query.senders:
            filters.append({"terms": {"sender_id": list(query.senders)}})
        for flag in ("has_link", "has_file", "is_thread"):
            if getattr(query, flag):
                filters.append({"term": {flag: True}})
        if query.since is not None or query.until is not None:
            bounds = {"gte": query.since, "lt": query.until}
            filters.append(
                {"range": {"created_us": {k: v for k, v in bounds.items() if v is not None}}}
            )
        must: list[dict[str, Any]] = []
        if query.words:
            must.append({"match": {"text": {"query": " ".join(query.words), "operator": "and"}}})
        must += [{"match_phrase": {"text": phrase}} for phrase in query.phrases]
        answer = await self.client.search(
            index=self.alias,
            query={"bool": {"filter": filters, "must": must}},
            sort=[{"created_us": "desc"}, {"id": "desc"}],
            search_after=list(after) if after else None,
            size=limit,
            track_total_hits=False,
            source_includes=["channel_id", "sender_id", "text", "created_us"],
            highlight={
                "fields": {"text": {}},
                "pre_tags": [MARK_OPEN],
                "post_tags": [MARK_CLOSE],
                "encoder": "html",
                "number_of_fragments": 1,
                "fragment_size": SNIPPET_CHARS,
                "no_match_size": SNIPPET_CHARS,
            },
        )
        hits = []
        for hit in answer["hits"]["hits"]:
            source = hit["_source"]
            fragments = hit.get("highlight", {}).get("text")
            hits.append(
                Hit(
                    id=hit["_id"],
                    channel_id=source["channel_id"],
                    sender_id=source["sender_id"],
                    created_at=datetime.fromtimestamp(source["created_us"] / 1_000_000, UTC),
                    snippet=fragments[0] if fragments else highlight(source["text"], query),
                    position=(int(hit["sort"][0]), str(hit["sort"][1])),
                )
            )
        return hits

    async def workspaces(self) -> list[str]:
        answer = await self.client.search(
            index=self.alias,
            size=0,
            aggs={"ws": {"terms": {"field": "workspace_id", "size": 65_536}}},
        )
        return sorted(b["key"] for b in answer["aggregations"]["ws"]["buckets"])

    async def indexed_ids(self, workspace_id: str, *, generation: str | None = None) -> set[str]:
        return await self._ids({"term": {"workspace_id": workspace_id}}, generation)


FILE_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "workspace_id": {"type": "keyword"},
        "channel_id": {"type": "keyword"},
        "file_id": {"type": "keyword"},
        "message_id": {"type": "keyword"},
        "name": {"type": "keyword"},
        "text": {"type": "text", "analyzer": "standard"},
        "created_us": {"type": "long"},
    },
}


def _wildcard(text: str) -> str:
    return "".join("\\" + c if c in "*?\\" else c for c in text)


class ElasticsearchFiles(_AliasedIndex):
    """Files on messages in an index behind an alias of their own."""

    mappings = FILE_MAPPINGS

    def __init__(self, url: str, *, prefix: str = "", replicas: int | None = None) -> None:
        super().__init__(url, name="quckchat-files", prefix=prefix, replicas=replicas)

    async def index(self, docs: Sequence[IndexedFile], *, generation: str | None = None) -> None:
        await self._write([(d.id, d.version, self._source(d)) for d in docs], generation)

    @staticmethod
    def _source(doc: IndexedFile) -> dict[str, Any]:
        return {
            "id": doc.id,
            "workspace_id": doc.workspace_id,
            "channel_id": doc.channel_id,
            "file_id": doc.file_id,
            "message_id": doc.message_id,
            "name": doc.name,
            # Split as the SQL backend splits (`report.pdf` is two words), not by the analyzer.
            "text": " ".join(tokens(doc.searched)),
            "created_us": doc.created_us,
        }

    async def search(
        self, channel_id: str, text: str, *, limit: int, after: tuple[int, str] | None
    ) -> list[FileHit]:
        pattern = {"value": f"*{_wildcard(text)}*", "case_insensitive": True}
        should: list[dict[str, Any]] = [{"wildcard": {"name": pattern}}]
        if words := tokens(text):
            should.append({"match": {"text": {"query": " ".join(words), "operator": "and"}}})
        answer = await self.client.search(
            index=self.alias,
            query={
                "bool": {
                    "filter": [{"term": {"channel_id": channel_id}}],
                    "should": should,
                    "minimum_should_match": 1,
                }
            },
            sort=[{"created_us": "desc"}, {"id": "desc"}],
            search_after=list(after) if after else None,
            size=limit,
            track_total_hits=False,
            source_includes=["file_id", "message_id"],
        )
        return [
            FileHit(
                id=hit["_id"],
                file_id=hit["_source"]["file_id"],
                message_id=hit["_source"]["message_id"],
                position=(int(hit["sort"][0]), str(hit["sort"][1])),
            )
            for hit in answer["hits"]["hits"]
        ]

    async def indexed_ids(self, *, generation: str | None = None) -> set[str]:
        return await self._ids({"match_all": {}}, generation)


def backend_for(
    elasticsearch_url: str | None, *, db: Database | None, table: Table, prefix: str = ""
) -> SearchBackend:
    """Elasticsearch when its URL is set, else the service's SQL database."""
    if elasticsearch_url:
        return ElasticsearchBackend(elasticsearch_url, prefix=prefix)
    if db is None:
        raise RuntimeError("search needs Elasticsearch or its SQL database")
    return SqlBackend(db, table)


def file_index_for(
    elasticsearch_url: str | None, *, db: Database | None, table: Table, prefix: str = ""
) -> FileIndex:
    """Files beside the messages: in Elasticsearch when its URL is set, else in SQL."""
    if elasticsearch_url:
        return ElasticsearchFiles(elasticsearch_url, prefix=prefix)
    if db is None:
        raise RuntimeError("search needs Elasticsearch or its SQL database")
    return SqlFiles(db, table)
