"""Fixtures for the chart's tests: the rendered value sets, and the testbed's control plane."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.charts.support import VALUE_SETS, template
from tests.operator.e2e.kube import kubectl
from tests.support import IN_CI, load_testbed_env

load_testbed_env()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "kube: needs the testbed's Kubernetes control plane (hack/testbed)"
    )


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """`helm template` of each value set, CRDs included, rendered once per session."""
    return {name: template(*values) for name, values in VALUE_SETS.items()}


@pytest.fixture(scope="session")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The testbed's kubeconfig as $KUBECONFIG (for kubectl and helm), and helm's own state in a
    temporary directory, so the tests leave the user's helm settings alone."""
    path = os.environ.get("QUCKCHAT_TEST_KUBECONFIG")
    if not (path and Path(path).exists()):
        message = "the testbed's Kubernetes is not available: run `hack/testbed up kube`"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    reachable = kubectl(f"--kubeconfig={path}", "version", "--request-timeout=10s", check=False)
    if "Server Version" not in reachable:
        message = f"the testbed's kube-apiserver does not answer: {reachable.strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    helm_home = tmp_path_factory.mktemp("helm")
    settings = {
        "KUBECONFIG": path,
        "HELM_CACHE_HOME": str(helm_home / "cache"),
        "HELM_CONFIG_HOME": str(helm_home / "config"),
        "HELM_DATA_HOME": str(helm_home / "data"),
    }
    before = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    yield path
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
