"""The attachment service beside the real file, message, channel, workspace, media and search
services (and what those call), on each storage world (tests/worlds/files.py), search on the
real Elasticsearch (its indexes under the mesh's own prefix, dropped afterwards). The services
start once per module; each test has a team of its own (tests/worlds/sharing.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from quckchat.core.search import ElasticsearchBackend, ElasticsearchFiles
from quckchat.search.store import backend, file_index
from tests.support import TestKeys, server
from tests.worlds.files import WORLDS, mark_storage_worlds, storage_org
from tests.worlds.org import SERVICES, Org
from tests.worlds.sharing import Team, sharing_team

HERE = Path(__file__).parent
SHARING = [*SERVICES, "file", "attachment", "message", "search", "media"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_storage_worlds(items, HERE)
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker("elasticsearch")


@pytest.fixture(scope="module", params=WORLDS)
async def org(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, module_keys: TestKeys
) -> AsyncIterator[Org]:
    path = tmp_path_factory.mktemp("attachments")
    elasticsearch = server("elasticsearch")
    async with storage_org(
        request.param, path, module_keys, SHARING, elasticsearch_url=elasticsearch
    ) as org:
        search = org.runtime("search")
        try:
            yield org
        finally:
            for index in (backend(search), file_index(search)):
                assert isinstance(index, ElasticsearchBackend | ElasticsearchFiles)
                await index.drop()


@pytest.fixture
async def team(org: Org, request: pytest.FixtureRequest) -> AsyncIterator[Team]:
    async with sharing_team(org, request.node.callspec.params["org"]) as found:
        yield found
