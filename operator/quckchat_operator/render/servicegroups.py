"""ServiceGroups: one per catalog group with something deployed, holding its services' replicas
and autoscaling.

The cluster's `groups` and `services` overrides seed a ServiceGroup when it is first made; from
then on the ServiceGroup is what a platform team edits (or `kubectl scale`s), and the
Deployments follow it. `render_cluster` therefore takes the live ServiceGroups when there are any.
"""

from __future__ import annotations

from dataclasses import dataclass

from quckchat import catalog
from quckchat.catalog import Group
from quckchat_operator import naming
from quckchat_operator.models import AutoscalingSpec, ScalingOverride, ServiceGroupSpec
from quckchat_operator.naming import Component
from quckchat_operator.render.meta import Cluster, Manifest, manifest, metadata

DEFAULT_REPLICAS = 1


@dataclass(frozen=True)
class Scaling:
    """How many pods one service runs: a fixed count, or an HPA's range."""

    replicas: int
    autoscaling: AutoscalingSpec | None = None

    @property
    def floor(self) -> int:
        """The fewest pods the service runs, which decides whether a PDB makes sense."""
        return self.autoscaling.min_replicas if self.autoscaling else self.replicas


def seed(cluster: Cluster) -> dict[Group, ServiceGroupSpec]:
    """Each deployed group's ServiceGroup spec as the cluster's overrides first describe it (a
    group whose services are all planned gets none until one is implemented)."""
    specs = {}
    for group in catalog.deployed_groups():
        override = cluster.spec.groups.get(group)
        services = {}
        for service in catalog.by_group(group):
            own = cluster.spec.services.get(service.name)
            if own is not None and (own.replicas is not None or own.autoscaling is not None):
                services[service.name] = ScalingOverride(
                    replicas=own.replicas, autoscaling=own.autoscaling
                )
        specs[group] = ServiceGroupSpec(
            cluster=cluster.name,
            group=group,
            replicas=DEFAULT_REPLICAS
            if override is None or override.replicas is None
            else override.replicas,
            autoscaling=override.autoscaling if override else None,
            services=services,
        )
    return specs


def scaling_for(group: ServiceGroupSpec, service: str) -> Scaling:
    """A service's own setting where it has one, else its group's."""
    own = group.services.get(service)
    replicas = own.replicas if own is not None and own.replicas is not None else group.replicas
    autoscaling = own.autoscaling if own is not None and own.autoscaling else group.autoscaling
    return Scaling(replicas, autoscaling if autoscaling and autoscaling.enabled else None)


def render_service_group(cluster: Cluster, spec: ServiceGroupSpec) -> Manifest:
    return manifest(
        naming.GROUP_VERSION,
        naming.SERVICE_GROUP.kind,
        metadata(
            cluster,
            naming.service_group_name(cluster.name, spec.group),
            naming.labels(cluster.name, naming.PART_OF, Component.SCALING, spec.group),
        ),
        spec=spec.model_dump(mode="json", exclude_none=True),
    )
