"""One catalog service: Deployment, Service, and a PDB and an HPA where they apply.

Every service runs the one platform image as `quckchat serve NAME`. With autoscaling on, the
Deployment carries no `replicas`, so applying it never undoes what the HPA decided.
"""

from __future__ import annotations

from typing import Any

from quckchat.catalog import ServiceSpec
from quckchat_operator import naming
from quckchat_operator.models import AutoscalingSpec
from quckchat_operator.naming import Component
from quckchat_operator.render import config, notifications, security, stores
from quckchat_operator.render.meta import Cluster, Manifest, manifest, metadata
from quckchat_operator.render.servicegroups import Scaling

PORT_NAME = "http"
DEFAULT_RESOURCES: dict[str, Any] = {
    "requests": {"cpu": "50m", "memory": "128Mi"},
    "limits": {"memory": "512Mi"},
}
SCRATCH = ("/tmp",)
REVISION_HISTORY = 5


def resources_for(cluster: Cluster, service: ServiceSpec) -> dict[str, Any]:
    """The service's own resources, else its group's, else the default."""
    for override in (
        cluster.spec.services.get(service.name),
        cluster.spec.groups.get(service.group),
    ):
        if override is not None and override.resources is not None:
            return override.resources.as_manifest()
    return DEFAULT_RESOURCES


def store_env(cluster: Cluster, service: ServiceSpec) -> list[dict[str, Any]]:
    """The URL of each store the service uses (the optional analytics store is not run here)."""
    return [
        entry
        for store in service.stores
        if store in stores.STORE_KINDS
        for entry in stores.connection_envs(cluster, store)
    ]


def render_service(
    cluster: Cluster, service: ServiceSpec, scaling: Scaling, config_hash: str
) -> list[Manifest]:
    objects = [
        _deployment(cluster, service, scaling, config_hash),
        _service(cluster, service),
    ]
    if scaling.floor >= 2:
        objects.append(_disruption_budget(cluster, service))
    if scaling.autoscaling is not None:
        objects.append(_autoscaler(cluster, service, scaling.autoscaling))
    return objects


def _labels(cluster: Cluster, service: ServiceSpec) -> dict[str, str]:
    return naming.labels(cluster.name, service.name, Component.SERVICE, service.group)


def _http_probe(path: str, **timing: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": PORT_NAME}, "timeoutSeconds": 2, **timing}


def _container(
    cluster: Cluster, service: ServiceSpec, mounts: list[Any], extra_env: list[Any]
) -> dict[str, Any]:
    return {
        "name": service.name,
        "image": cluster.spec.image_ref,
        "imagePullPolicy": str(cluster.spec.image.pull_policy),
        "args": ["serve", service.name],
        "ports": [{"name": PORT_NAME, "containerPort": service.port, "protocol": "TCP"}],
        "envFrom": config.env_from(cluster),
        "env": store_env(cluster, service) + extra_env,
        # Startup first, so a slow first start is not taken for a hung process.
        "startupProbe": _http_probe("/health/live", periodSeconds=2, failureThreshold=60),
        "livenessProbe": _http_probe("/health/live", periodSeconds=10, failureThreshold=3),
        "readinessProbe": _http_probe("/health/ready", periodSeconds=5, failureThreshold=3),
        "resources": resources_for(cluster, service),
        "securityContext": security.container_security(),
        "volumeMounts": mounts,
    }


def _spread(selector: dict[str, str]) -> list[dict[str, Any]]:
    """Across zones, then nodes; preferred, so a small cluster still schedules everything."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector},
            # Count only the current ReplicaSet's pods, so a rollout spreads too.
            "matchLabelKeys": ["pod-template-hash"],
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def _deployment(
    cluster: Cluster, service: ServiceSpec, scaling: Scaling, config_hash: str
) -> Manifest:
    labels = _labels(cluster, service)
    selector = naming.selector(cluster.name, service.name)
    volumes, mounts = security.scratch_volumes(SCRATCH)
    extras = notifications.extras(cluster, service)
    volumes += extras.volumes
    mounts += extras.mounts
    spec: dict[str, Any] = {}
    if scaling.autoscaling is None:
        spec["replicas"] = scaling.replicas
    spec |= {
        "revisionHistoryLimit": REVISION_HISTORY,
        "progressDeadlineSeconds": cluster.spec.upgrade_strategy.progress_deadline_seconds,
        "selector": {"matchLabels": selector},
        # A new pod is ready before an old one goes: a rollout never lowers capacity.
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        },
        "template": {
            "metadata": {
                "labels": labels,
                "annotations": {naming.CONFIG_HASH_ANNOTATION: config_hash},
            },
            "spec": {
                **security.pod_defaults(naming.service_account_name(cluster.name)),
                **cluster.spec.placement.as_pod_fields(),
                "securityContext": security.pod_security(),
                "topologySpreadConstraints": _spread(selector),
                "terminationGracePeriodSeconds": 30,
                "containers": [_container(cluster, service, mounts, extras.env)],
                "volumes": volumes,
            },
        },
    }
    return manifest(
        "apps/v1",
        "Deployment",
        metadata(cluster, naming.service_name(cluster.name, service.name), labels),
        spec=spec,
    )


def _service(cluster: Cluster, service: ServiceSpec) -> Manifest:
    return manifest(
        "v1",
        "Service",
        metadata(
            cluster, naming.service_name(cluster.name, service.name), _labels(cluster, service)
        ),
        spec={
            "type": "ClusterIP",
            "selector": naming.selector(cluster.name, service.name),
            "ports": [
                {
                    "name": PORT_NAME,
                    "port": service.port,
                    "targetPort": PORT_NAME,
                    "protocol": "TCP",
                    "appProtocol": "http",
                }
            ],
        },
    )


def _disruption_budget(cluster: Cluster, service: ServiceSpec) -> Manifest:
    return manifest(
        "policy/v1",
        "PodDisruptionBudget",
        metadata(
            cluster, naming.service_name(cluster.name, service.name), _labels(cluster, service)
        ),
        spec={
            # One at a time, whatever the replica count the HPA or a person picks.
            "maxUnavailable": 1,
            "selector": {"matchLabels": naming.selector(cluster.name, service.name)},
        },
    )


def _autoscaler(cluster: Cluster, service: ServiceSpec, autoscaling: AutoscalingSpec) -> Manifest:
    name = naming.service_name(cluster.name, service.name)
    return manifest(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        metadata(cluster, name, _labels(cluster, service)),
        spec={
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": autoscaling.min_replicas,
            "maxReplicas": autoscaling.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": autoscaling.target_cpu_utilization_percentage,
                        },
                    },
                }
            ],
        },
    )
