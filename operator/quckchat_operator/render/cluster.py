"""Everything a QuckChatCluster consists of, in the order it should come up."""

from __future__ import annotations

from collections.abc import Mapping

from quckchat import catalog
from quckchat.catalog import Group, Store
from quckchat_operator.models import ServiceGroupSpec
from quckchat_operator.render.accounts import render_service_account
from quckchat_operator.render.config import config_hash, render_config
from quckchat_operator.render.ingress import render_ingress
from quckchat_operator.render.meta import Cluster, Manifest, detached
from quckchat_operator.render.migrations import render_migration
from quckchat_operator.render.network import render_network
from quckchat_operator.render.servicegroups import render_service_group, scaling_for, seed
from quckchat_operator.render.services import render_service
from quckchat_operator.render.stores import (
    MANAGED_STORES,
    PasswordGenerator,
    new_password,
    render_store,
)


def render_cluster(
    cluster: Cluster,
    *,
    service_groups: Mapping[Group, ServiceGroupSpec] | None = None,
    passwords: Mapping[Store, str] | None = None,
    generate_password: PasswordGenerator = new_password,
) -> list[Manifest]:
    """Every object of the cluster, in dependency order.

    `service_groups` are the live ServiceGroups (they, not the cluster's seed values, decide
    replicas once they exist); `passwords` are the managed stores' passwords already stored in
    their Secrets, so a re-render keeps them.
    """
    groups = {**seed(cluster), **(service_groups or {})}
    passwords = passwords or {}
    config = render_config(cluster)
    # Access and policies before any pod, so no pod ever runs unconfined.
    objects = [render_service_account(cluster), config, *render_network(cluster)]
    for store in MANAGED_STORES:
        objects += render_store(
            cluster,
            store,
            existing_password=passwords.get(store),
            generate_password=generate_password,
        )
    objects.append(render_migration(cluster))
    objects += [render_service_group(cluster, groups[g]) for g in catalog.deployed_groups()]
    digest = config_hash(config)
    for group in catalog.UPGRADE_ORDER:
        # A planned service has no code yet: nothing is rendered for it until it is implemented.
        for service in catalog.startup_order(catalog.implemented(group)):
            scaling = scaling_for(groups[group], service.name)
            objects += render_service(cluster, service, scaling, digest)
    objects += render_ingress(cluster)
    return [detached(o) for o in objects]
