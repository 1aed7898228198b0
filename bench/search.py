"""Search figures: p95 latency of queries over N indexed messages, per backend.

`python -m bench.search [N_ELASTICSEARCH] [N_SQL]` (default 20,000 each). Messages are indexed
straight through the backend in batches (not through HTTP); the SQL backend runs on a SQLite
file, Elasticsearch on the testbed's server (skipped when none is configured) under an index
prefix of its own, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.stats import figure, report, timed
from quckchat.core.search import (
    ElasticsearchBackend,
    IndexedMessage,
    Scope,
    SearchBackend,
    SqlBackend,
    micros,
)
from quckchat.core.sql import Database
from quckchat.search.models import messages, metadata
from quckchat.search.query import parse
from tests.support import load_testbed_env

DEFAULT_N = 20_000
CHANNELS = 20
SENDERS = 50
BATCH = 1_000
QUERIES = 200
WORDS = [f"w{i}" for i in range(2_000)]
ASKED = ["w7", "w12 w40", '"w3 w4"', "w5 from:u1", "w9 has:link", "w11 in:c2", "w13 on:2026-01-02"]


def corpus(n: int, workspace: str) -> list[IndexedMessage]:
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    docs = []
    for i in range(n):
        text = " ".join(rng.choices(WORDS[:200] if i % 2 else WORDS, k=rng.randint(4, 30)))
        if i % 10 == 0:
            text += " https://example.com/page"
        created = start + timedelta(seconds=i * 17)
        docs.append(
            IndexedMessage(
                id=f"m{i:08d}",
                workspace_id=workspace,
                channel_id=f"c{i % CHANNELS}",
                sender_id=f"u{i % SENDERS}",
                text=text,
                created_at=created,
                version=micros(created),
                has_file=i % 25 == 0,
            )
        )
    return docs


async def measure(name: str, backend: SearchBackend, n: int) -> None:
    workspace = "bench"
    docs = corpus(n, workspace)
    started = time.perf_counter()
    for offset in range(0, n, BATCH):
        await backend.index(docs[offset : offset + BATCH])
    if isinstance(backend, ElasticsearchBackend):
        await backend.refresh()
    figure(f"search {name}: index {n} messages", time.perf_counter() - started, "s")
    scope = Scope(workspace, frozenset(f"c{i}" for i in range(CHANNELS)))
    queries = [parse(q) for q in ASKED]
    turn = iter(range(10**9))

    async def one() -> None:
        await backend.search(queries[next(turn) % len(queries)], scope, limit=20, after=None)

    report(f"search {name}: query over {n}", await timed(one, QUERIES))


async def main(n_elasticsearch: int = DEFAULT_N, n_sql: int = DEFAULT_N) -> None:
    load_testbed_env()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'search.db'}")
        try:
            await db.create_all(metadata)
            await measure("sql (sqlite)", SqlBackend(db, messages), n_sql)
        finally:
            await db.close()
    url = os.environ.get("QUCKCHAT_TEST_ELASTICSEARCH_URL") or os.environ.get(
        "QUCKCHAT_ELASTICSEARCH_URL"
    )
    if not url:
        print("search elasticsearch: no server configured (hack/testbed up); skipped")
        return
    es = ElasticsearchBackend(url, prefix=f"bench{uuid.uuid4().hex[:8]}.", replicas=0)
    try:
        await es.start()
        await measure("elasticsearch", es, n_elasticsearch)
    finally:
        await es.drop()
        await es.close()


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*sizes))
