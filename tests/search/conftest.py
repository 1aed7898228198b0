"""The search service beside the real permission, channel, workspace and message services,
on each backend: SQL on SQLite, MariaDB and PostgreSQL, and the real Elasticsearch (its index
under a prefix of the module's own, dropped afterwards). The services start once per module
and backend; each test has a workspace of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from quckchat.core.search import ElasticsearchBackend
from quckchat.search.store import backend
from tests.support import TestKeys, fresh_database, server
from tests.worlds.chat import Chat, chat_in, chat_mesh
from tests.worlds.mesh import Mesh

BACKENDS = ["sqlite", "mysql", "postgres", "elasticsearch"]


@pytest.fixture(scope="module", params=BACKENDS)
async def mesh(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    module_keys: TestKeys,
) -> AsyncIterator[Mesh]:
    kind = request.param
    path = tmp_path_factory.mktemp("search")
    with pytest.MonkeyPatch.context() as patch:
        if kind == "elasticsearch":
            patch.setenv("QUCKCHAT_ELASTICSEARCH_URL", server("elasticsearch"))
        async with (
            fresh_database("sqlite" if kind == "elasticsearch" else kind, path) as url,
            chat_mesh("search", url, path, module_keys, files=True) as mesh,
        ):
            found = backend(mesh.runtime("search"))
            assert isinstance(found, ElasticsearchBackend) == (kind == "elasticsearch")
            try:
                yield mesh
            finally:
                if isinstance(found, ElasticsearchBackend):
                    await found.drop()


@pytest.fixture
async def chat(mesh: Mesh, module_keys: TestKeys) -> AsyncIterator[Chat]:
    async with chat_in(mesh, module_keys, "search", observe=["message"]) as chat:
        yield chat
