"""Shared fixtures: the addresses of the real servers and fresh databases on each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

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
    `server` too, so `-m "not server"` selects the pure tests."""
    for item in items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        for value in params.values():
            if isinstance(value, str) and value in SERVER_VARS:
                item.add_marker(value)
        if any(item.get_closest_marker(m) for m in SERVER_MARKERS):
            item.add_marker("server")
    check_shared_suites(items)


# The suites that share something and so run one after another, on one worker, under
# `--dist loadgroup`: those on the one Kubernetes cluster (`kube`), and those that serve the
# platform on its ports, on the real servers (`e2e`) or on embedded stores (`live`). By file,
# since the scheduler sees only test ids; collection checks that each marker's files are here.
SHARED_SUITES: dict[str, tuple[str, ...]] = {
    "kube": ("tests/charts/test_install.py", "tests/operator/e2e/", "tests/operator/real_node/"),
    "e2e": ("tests/e2e/", "tests/core/test_run.py"),
    "live": (
        "tests/test_openapi_fuzz.py",
        "tests/backend_gateway/test_public_api_fuzz.py",
        "tests/backend_gateway/test_generated_client.py",
    ),
}


def worker_group(nodeid: str) -> str:
    """What one worker runs in turn: a shared suite's files together, any other file alone
    (whole, so its module fixtures start once)."""
    path = nodeid.split("::", 1)[0]
    for group, paths in SHARED_SUITES.items():
        if path.startswith(paths):
            return group
    return path


def check_shared_suites(items: list[pytest.Item]) -> None:
    """A test with a shared suite's marker whose file `SHARED_SUITES` does not list would run
    beside the others of its kind: a collection error, not a flaky clash."""
    for item in items:
        for group in SHARED_SUITES:
            if item.get_closest_marker(group) and worker_group(item.nodeid) != group:
                raise pytest.UsageError(
                    f"{item.nodeid} has the {group} marker: list its file under {group!r} "
                    "in SHARED_SUITES (tests/conftest.py)"
                )


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` as `worker_group` says (xdist's own reads groups from test ids it can
    no longer rename under pytest 9.2)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BySharedSuite(LoadScopeScheduling):  # type: ignore[misc]  # imported untyped here
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    return BySharedSuite(config, log)


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
