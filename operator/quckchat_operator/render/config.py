"""The settings every service of a cluster shares: one ConfigMap, read as QUCKCHAT_* env."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from quckchat_operator import naming
from quckchat_operator.naming import Component
from quckchat_operator.render.meta import Cluster, Manifest, manifest, metadata


def settings(cluster: Cluster) -> dict[str, str]:
    """QUCKCHAT_* settings that are the same for every service and hold no secret."""
    shared = {
        "QUCKCHAT_VERSION": cluster.spec.version,
        "QUCKCHAT_HOST": "0.0.0.0",
        "QUCKCHAT_SERVICE_URL_TEMPLATE": naming.service_url_template(cluster.name),
        # Schemas change only in the migration Job, before a rollout, never at pod start.
        "QUCKCHAT_AUTO_MIGRATE": "false",
        # The root filesystem is read-only; /tmp is the pod's one writable directory.
        "QUCKCHAT_DATA_DIR": "/tmp/quckchat",
        "QUCKCHAT_LOG_LEVEL": "INFO",
    }
    if cluster.spec.files.clamd is not None:
        shared["QUCKCHAT_CLAMD_URL"] = cluster.spec.files.clamd
    return shared


def render_config(cluster: Cluster) -> Manifest:
    labels = naming.labels(cluster.name, naming.PART_OF, Component.CONFIG)
    return manifest(
        "v1",
        "ConfigMap",
        metadata(cluster, naming.config_name(cluster.name), labels),
        data=settings(cluster),
    )


def config_hash(config: Manifest) -> str:
    """A digest of the ConfigMap, put on pod templates so a settings change rolls the pods."""
    data: dict[str, Any] = config["data"]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def env_from(cluster: Cluster) -> list[dict[str, Any]]:
    """The shared settings, then a platform team's optional Secret of sensitive ones."""
    return [
        {"configMapRef": {"name": naming.config_name(cluster.name)}},
        {"secretRef": {"name": naming.settings_secret_name(cluster.name), "optional": True}},
    ]
