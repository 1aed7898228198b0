"""One organization mesh per test module and SQL backend; tests keep apart by fresh users."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import SQL_BACKENDS
from tests.support import TestKeys
from tests.workspace.harness import Org, running_org


@pytest.fixture(scope="module", params=SQL_BACKENDS)
async def org(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Org]:
    async with running_org(request.param, tmp_path_factory.mktemp("org"), TestKeys()) as org:
        yield org
