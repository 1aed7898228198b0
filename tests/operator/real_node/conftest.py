"""Fixtures for the platform on real pods (tests/operator/real_node/platform.py does the work)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.operator.e2e.conftest import MEASUREMENTS
from tests.operator.e2e.kube import drop_namespace
from tests.operator.real_node import platform
from tests.operator.real_node.platform import Images
from tests.support import load_testbed_env, unavailable
from tests.worlds.kube import kubectl

load_testbed_env()


@pytest.fixture(scope="session")
def real_node() -> str:
    node = os.environ.get("QUCKCHAT_TEST_REAL_NODE")
    if not node:
        unavailable("no real node: run `hack/testbed up kube node` (QUCKCHAT_TEST_REAL_NODE unset)")
    os.environ.setdefault("KUBECONFIG", os.environ.get("QUCKCHAT_TEST_KUBECONFIG", ""))
    ready = kubectl(
        "get", "node", node, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}"
    )
    if ready != "True":
        unavailable(f"the real node {node} is not Ready ({ready!r})")
    platform.drop_leftovers()
    return node


@pytest.fixture(scope="session")
def images(real_node: str) -> Images:
    return platform.build_images(platform.VERSION)


@pytest.fixture(scope="session")
def store_urls(real_node: str) -> dict[str, str]:
    urls = platform.store_urls()
    if not all(urls.values()) or not os.environ.get(platform.SMTP_VAR):
        unavailable(
            "the node's server addresses are not in the env file: "
            f"{[*platform.STORE_VARS.values(), platform.SMTP_VAR]}"
        )
    return urls


@pytest.fixture(scope="module")
def namespace(real_node: str) -> Iterator[str]:
    name = platform.restricted_namespace("qc-real")
    yield name
    drop_namespace(name)


@pytest.fixture(scope="module")
def operator_release(namespace: str, images: Images) -> Iterator[str]:
    release = platform.install_operator(namespace, images)
    MEASUREMENTS["operator"] = f"{release} from {images.operator}"
    yield release
    platform.uninstall_operator(namespace, release)
