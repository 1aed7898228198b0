"""The attachment service beside the real file, message, channel and workspace services (and
what those call), on each storage world (tests/worlds/files.py). The services start once per
module; each test has a team of its own (tests/worlds/sharing.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import TestKeys
from tests.worlds.files import WORLDS, mark_storage_worlds, storage_org
from tests.worlds.org import SERVICES, Org
from tests.worlds.sharing import Team, sharing_team

HERE = Path(__file__).parent
SHARING = [*SERVICES, "file", "attachment", "message"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_storage_worlds(items, HERE)


@pytest.fixture(scope="module", params=WORLDS)
async def org(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, module_keys: TestKeys
) -> AsyncIterator[Org]:
    path = tmp_path_factory.mktemp("attachments")
    async with storage_org(request.param, path, module_keys, SHARING) as org:
        yield org


@pytest.fixture
async def team(org: Org, request: pytest.FixtureRequest) -> AsyncIterator[Team]:
    async with sharing_team(org, request.node.callspec.params["org"]) as found:
        yield found
