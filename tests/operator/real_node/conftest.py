"""The platform on real pods: the test bed's real node, the images built here, the chart's operator.

Everything runs as a platform team would run it: `helm install` of the chart (the operator in a
pod, from its own image, under the chart's RBAC), then a QuckChatCluster whose stores are the
test bed's servers, reached from the pods at the node bridge's address.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.charts.support import CHART, helm
from tests.operator.e2e.conftest import MEASUREMENTS, PSA_ENFORCE
from tests.operator.e2e.kube import drop_namespace, kubectl
from tests.operator.support import ROOT
from tests.support import IN_CI, load_testbed_env

load_testbed_env()

VERSION = "1.0.0"
NEXT_VERSION = "1.0.1"
NODE_SCRIPT = ROOT / "hack" / "testbed-node"
# What the test bed's node is labelled and tainted with (hack/testbed-node).
NODE_KIND = "quckchat.io/node-kind"
PLACEMENT = {
    "nodeSelector": {NODE_KIND: "real"},
    "tolerations": [
        {"key": NODE_KIND, "operator": "Equal", "value": "real", "effect": "NoSchedule"}
    ],
}
# The test bed's servers as pods reach them (`hack/testbed-node env` writes these).
STORE_VARS = {
    "mysql": "QUCKCHAT_TEST_NODE_MYSQL_URL",
    "postgresql": "QUCKCHAT_TEST_NODE_POSTGRES_URL",
    "mongodb": "QUCKCHAT_TEST_NODE_MONGODB_URL",
    "redis": "QUCKCHAT_TEST_NODE_REDIS_URL",
    "kafka": "QUCKCHAT_TEST_NODE_KAFKA_BOOTSTRAP",
    "elasticsearch": "QUCKCHAT_TEST_NODE_ELASTICSEARCH_URL",
}


def missing(message: str) -> None:
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class Images:
    platform: str
    operator: str

    def platform_at(self, version: str) -> str:
        return f"{self.platform.rpartition(':')[0]}:{version}"


def build_images(version: str) -> Images:
    """Both images of this tree at `version`, built here and imported into the node (cached:
    an unchanged tree is not built again)."""
    done = subprocess.run(
        [str(NODE_SCRIPT), "images", version], capture_output=True, text=True, timeout=1800
    )
    if done.returncode != 0:
        raise AssertionError(f"hack/testbed-node images {version} failed:\n{done.stderr[-3000:]}")
    platform = os.environ.get("QUCKCHAT_TEST_NODE_PLATFORM_IMAGE", "localhost/quckchat/quckchat")
    operator = os.environ.get(
        "QUCKCHAT_TEST_NODE_OPERATOR_IMAGE", "localhost/quckchat/quckchat-operator"
    )
    return Images(platform=f"{platform}:{version}", operator=f"{operator}:{version}")


@pytest.fixture(scope="session")
def real_node() -> str:
    node = os.environ.get("QUCKCHAT_TEST_REAL_NODE")
    if not node:
        missing("no real node: run `hack/testbed up kube node` (QUCKCHAT_TEST_REAL_NODE unset)")
    assert node is not None
    os.environ.setdefault("KUBECONFIG", os.environ.get("QUCKCHAT_TEST_KUBECONFIG", ""))
    ready = kubectl(
        "get", "node", node, "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}"
    )
    if ready != "True":
        missing(f"the real node {node} is not Ready ({ready!r})")
    return node


@pytest.fixture(scope="session")
def images(real_node: str) -> Images:
    return build_images(VERSION)


@pytest.fixture(scope="session")
def store_urls(real_node: str) -> dict[str, str]:
    urls = {store: os.environ.get(var, "") for store, var in STORE_VARS.items()}
    if not all(urls.values()):
        missing(
            f"the node's store addresses are not in the env file: {sorted(STORE_VARS.values())}"
        )
    return urls


def restricted_namespace(prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    kubectl(
        "label", "namespace", name, f"{PSA_ENFORCE}=restricted", f"{PSA_ENFORCE}-version=latest"
    )
    return name


@pytest.fixture(scope="module")
def namespace(real_node: str) -> Iterator[str]:
    name = restricted_namespace("qc-real")
    yield name
    drop_namespace(name)


@pytest.fixture(scope="module")
def operator_release(namespace: str, images: Images) -> Iterator[str]:
    """The chart's operator, as a pod on the real node, serving the test's namespace."""
    repository, _, tag = images.operator.rpartition(":")
    release = f"qco-{uuid.uuid4().hex[:6]}"
    helm(
        "install", release, str(CHART), "-n", namespace, "--wait", "--timeout=5m",
        f"--set=image.repository={repository}", f"--set=image.tag={tag}",
        "--set=image.pullPolicy=Never",
        "--set=watch.allNamespaces=false", f"--set=watch.namespaces={{{namespace}}}",
        # Cluster-wide and one per cluster: the chart's own tests cover it.
        "--set=rbac.workspaceEditor.create=false",
        f"--set-json=nodeSelector={json.dumps(PLACEMENT['nodeSelector'])}",
        f"--set-json=tolerations={json.dumps(PLACEMENT['tolerations'])}",
    )  # fmt: skip
    MEASUREMENTS["operator"] = f"{release} from {images.operator}"
    yield release
    helm("uninstall", release, "-n", namespace, "--ignore-not-found", "--wait")
