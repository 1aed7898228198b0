"""The ServiceAccount every pod of a cluster runs as: no token, so no Kubernetes API access."""

from __future__ import annotations

from quckchat_operator import naming
from quckchat_operator.naming import Component
from quckchat_operator.render.meta import Cluster, Manifest, manifest, metadata


def render_service_account(cluster: Cluster) -> Manifest:
    return manifest(
        "v1",
        "ServiceAccount",
        metadata(
            cluster,
            naming.service_account_name(cluster.name),
            naming.labels(cluster.name, naming.PART_OF, Component.ACCESS),
        ),
        automountServiceAccountToken=False,
    )
