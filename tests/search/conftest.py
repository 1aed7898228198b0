"""The search service beside the real permission, channel, workspace and message services,
on each backend: SQL on SQLite, MariaDB and PostgreSQL, and the real Elasticsearch (its index
under a prefix of the test's own, dropped afterwards)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from quckchat.core.search import ElasticsearchBackend
from quckchat.search.store import backend
from tests.support import TestKeys, fresh_database, server
from tests.worlds.chat import Chat, chat_world

BACKENDS = ["sqlite", "mysql", "postgres", "elasticsearch"]


@pytest.fixture(params=BACKENDS)
async def chat(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    keys: TestKeys,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Chat]:
    kind = request.param
    if kind == "elasticsearch":
        monkeypatch.setenv("QUCKCHAT_ELASTICSEARCH_URL", server("elasticsearch"))
    async with (
        fresh_database("sqlite" if kind == "elasticsearch" else kind, tmp_path) as url,
        chat_world("search", url, tmp_path, keys, observe=["message"]) as world,
    ):
        found = backend(world.mesh.runtime("search"))
        assert isinstance(found, ElasticsearchBackend) == (kind == "elasticsearch")
        try:
            yield world
        finally:
            if isinstance(found, ElasticsearchBackend):
                await found.drop()
