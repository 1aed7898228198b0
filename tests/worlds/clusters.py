"""The example resources under examples/, read as the operator reads them."""

from __future__ import annotations

from typing import Any

import yaml

from quckchat_operator.render.meta import Cluster
from tests.support import ROOT

EXAMPLES = ROOT / "examples"
CLUSTER_EXAMPLES = ("minimal-cluster", "production-cluster", "external-stores-cluster")


def example_documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((EXAMPLES / f"{name}.yaml").read_text()) if d]


def load_example(name: str) -> Cluster:
    cluster = next(d for d in example_documents(name) if d["kind"] == "QuckChatCluster")
    return Cluster.from_manifest(cluster)
