"""Shared fixtures: the addresses of the real servers and fresh databases on each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import TestKeys, fresh_database, fresh_documents, load_testbed_env

load_testbed_env()

SQL_BACKENDS = ["sqlite", "mysql", "postgres"]
DOCUMENT_BACKENDS = ["embedded", "mongodb"]


@pytest.fixture(params=SQL_BACKENDS)
async def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database on SQLite, the real MariaDB and the real PostgreSQL in turn."""
    async with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=DOCUMENT_BACKENDS)
async def documents_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """A fresh document database: the embedded store (None), then the real MongoDB-protocol
    server (FerretDB in the testbed)."""
    async with fresh_documents(request.param) as url:
        yield url


@pytest.fixture
def keys() -> TestKeys:
    return TestKeys()
