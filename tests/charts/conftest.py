"""Fixtures for the chart's tests: the rendered value sets, and the testbed's control plane."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.charts.support import VALUE_SETS, template
from tests.support import load_testbed_env
from tests.worlds.kube import testbed_kubeconfig

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
    path = testbed_kubeconfig()
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
