"""Shared fixtures: the addresses of the real servers and fresh databases on each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests import support
from tests.support import (
    DOCUMENT_BACKENDS,
    SERVER_VARS,
    SQL_BACKENDS,
    TestKeys,
    fresh_database,
    fresh_documents,
    load_testbed_env,
)

load_testbed_env()

# The worlds whose fixtures the suites of several services share (see tests/worlds/).
pytest_plugins = ["tests.worlds.org", "tests.worlds.mailbox"]
# Everything hack/testbed starts or builds that a test may need.
SERVER_MARKERS = (*SERVER_VARS, "kube", "helm", "checkov")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test parametrized onto a real server (a backend param named like one: `mysql`,
    `postgres`, `mongodb`...) gets that server's marker; a test with any server's marker gets
    `server` too, so `-m "not server"` selects the pure tests. Each test also gets the group
    that `--dist loadgroup` keeps on one worker (`worker_group`)."""
    for item in items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        for value in params.values():
            if isinstance(value, str) and value in SERVER_VARS:
                item.add_marker(value)
        if any(item.get_closest_marker(m) for m in SERVER_MARKERS):
            item.add_marker("server")
        item.add_marker(pytest.mark.xdist_group(worker_group(item)))


def worker_group(item: pytest.Item) -> str:
    """What one xdist worker runs in turn: the suites that serve the platform on its ports one
    after another (those on the real servers, and those on embedded stores: each kind shares
    ports), and likewise those on the one Kubernetes cluster; any other file as a whole, so
    its module fixtures start once."""
    for marker in ("kube", "e2e", "live"):
        if item.get_closest_marker(marker):
            return marker
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[object]:
    support.CURRENT_TEST.append(item)
    try:
        return (yield)
    finally:
        support.CURRENT_TEST.pop()


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


# A module's services started once and shared by its tests (each test makes its own workspace
# and users): starting a mesh costs far more than most tests it serves.


@pytest.fixture(scope="module", params=SQL_BACKENDS)
async def module_sql_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """One fresh database per test module on SQLite, the real MariaDB and the real PostgreSQL."""
    async with fresh_database(request.param, tmp_path_factory.mktemp("sql")) as url:
        yield url


@pytest.fixture(scope="module", params=DOCUMENT_BACKENDS)
async def module_documents_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """One fresh document database per test module: embedded, then the real server."""
    async with fresh_documents(request.param) as url:
        yield url


@pytest.fixture(scope="module")
def module_keys() -> TestKeys:
    return TestKeys()
