"""The schema-migration Job of one version: `quckchat migrate --all`, run before any rollout."""

from __future__ import annotations

from typing import Any

from quckchat.catalog import RELATIONAL_STORES
from quckchat_operator import naming
from quckchat_operator.naming import Component
from quckchat_operator.render import config, security, stores
from quckchat_operator.render.meta import Cluster, Manifest, manifest, metadata

MIGRATION_NAME = "migrate"
RESOURCES: dict[str, Any] = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"memory": "512Mi"},
}
BACKOFF_LIMIT = 3


def migration_env(cluster: Cluster) -> list[dict[str, Any]]:
    """Every relational server's URL: each service's schema goes to its own database there."""
    return [stores.connection_env(cluster, store) for store in sorted(RELATIONAL_STORES)]


def render_migration(cluster: Cluster) -> Manifest:
    """A Job named after the version, so each version migrates once and the Job is its record."""
    labels = naming.labels(cluster.name, MIGRATION_NAME, Component.MIGRATION)
    volumes, mounts = security.scratch_volumes(("/tmp",))
    container = {
        "name": MIGRATION_NAME,
        "image": cluster.spec.image_ref,
        "imagePullPolicy": str(cluster.spec.image.pull_policy),
        "args": ["migrate", "--all"],
        "envFrom": config.env_from(cluster),
        "env": migration_env(cluster),
        "resources": RESOURCES,
        "securityContext": security.container_security(),
        "volumeMounts": mounts,
    }
    return manifest(
        "batch/v1",
        "Job",
        metadata(
            cluster,
            naming.migration_job_name(cluster.name, cluster.spec.version),
            labels,
            {f"{naming.API_GROUP}/version": cluster.spec.version},
        ),
        spec={
            "backoffLimit": BACKOFF_LIMIT,
            "activeDeadlineSeconds": cluster.spec.upgrade_strategy.migration_timeout_seconds,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    **security.pod_defaults(naming.service_account_name(cluster.name)),
                    **cluster.spec.placement.as_pod_fields(),
                    "restartPolicy": "Never",
                    "securityContext": security.pod_security(),
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    )
