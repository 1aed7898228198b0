"""NetworkPolicies: deny by default, then allow exactly what the catalog says talks to what.

Only implemented services are deployed, so only they get policies and appear as peers.

Edges: a service calls the services in its `depends_on` (the gateway also every service it
routes to, those with a `public_prefix`); the gateway and realtime take traffic
from anywhere (clients, the ingress controller); every service reaches its own stores; every
pod may ask DNS; the notification service reaches its SMTP relay and, with a push provider set,
HTTPS anywhere. An external store is outside the cluster, so egress to it is by port only.
"""

from __future__ import annotations

from typing import Any

from quckchat import catalog
from quckchat.catalog import RELATIONAL_STORES, ServiceSpec, Store
from quckchat_operator import naming
from quckchat_operator.naming import Component
from quckchat_operator.render import notifications, stores
from quckchat_operator.render.ingress import GATEWAY, REALTIME
from quckchat_operator.render.meta import Cluster, Manifest, manifest, metadata
from quckchat_operator.render.migrations import MIGRATION_NAME

PUBLIC_SERVICES = frozenset({GATEWAY, REALTIME})
ANYWHERE = [{"ipBlock": {"cidr": "0.0.0.0/0"}}, {"ipBlock": {"cidr": "::/0"}}]
# The operator provisions Workspaces through this service, from wherever the chart runs it.
OPERATOR_CALLS = "workspace"
SCANS_FILES = "file"  # the one service that sends uploads to clamd
OPERATOR_PODS = {
    "namespaceSelector": {},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "quckchat-operator"}},
}
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def render_network(cluster: Cluster) -> list[Manifest]:
    objects = [_default_deny(cluster), _allow_dns(cluster)]
    objects += [_service_policy(cluster, service) for service in catalog.implemented()]
    objects += [
        _store_policy(cluster, store)
        for store in stores.MANAGED_STORES
        if stores.is_managed(cluster, store)
    ]
    objects.append(_migration_policy(cluster))
    return objects


def _policy(
    cluster: Cluster,
    name: str,
    labels: dict[str, str],
    pods: dict[str, str],
    *,
    ingress: list[dict[str, Any]] | None = None,
    egress: list[dict[str, Any]] | None = None,
) -> Manifest:
    spec: dict[str, Any] = {"podSelector": {"matchLabels": pods}, "policyTypes": []}
    if ingress is not None:
        spec["policyTypes"].append("Ingress")
        spec["ingress"] = ingress
    if egress is not None:
        spec["policyTypes"].append("Egress")
        spec["egress"] = egress
    return manifest(
        "networking.k8s.io/v1", "NetworkPolicy", metadata(cluster, name, labels), spec=spec
    )


def _cluster_labels(cluster: Cluster) -> dict[str, str]:
    return naming.labels(cluster.name, naming.PART_OF, Component.NETWORK)


def _tcp(port: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port}]


def _pods(cluster: Cluster, name: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": naming.selector(cluster.name, name)}}


def _default_deny(cluster: Cluster) -> Manifest:
    # Both types listed with no rules: nothing in or out unless another policy allows it.
    return _policy(
        cluster,
        naming.policy_name(cluster.name, "default-deny"),
        _cluster_labels(cluster),
        naming.cluster_selector(cluster.name),
        ingress=[],
        egress=[],
    )


def _allow_dns(cluster: Cluster) -> Manifest:
    # No `to`: DNS may be kube-dns pods or a node-local cache on a link-local address.
    return _policy(
        cluster,
        naming.policy_name(cluster.name, "allow-dns"),
        _cluster_labels(cluster),
        naming.cluster_selector(cluster.name),
        egress=[{"ports": DNS_PORTS}],
    )


def _store_egress(cluster: Cluster, store: Store) -> dict[str, Any]:
    if stores.is_managed(cluster, store):
        return {"to": [_pods(cluster, str(store))], "ports": _tcp(stores.port_of(cluster, store))}
    return {"to": ANYWHERE, "ports": _tcp(stores.port_of(cluster, store))}


def calls(service: ServiceSpec) -> list[str]:
    """Whom a service calls: its dependencies and calls, and for the gateway every route it
    forwards."""
    called = [*service.depends_on, *service.calls]
    if service.name == GATEWAY:
        routed = catalog.implemented()
        called += [s.name for s in routed if s.public_prefix and s.name not in called]
    return called


def _callers(service: ServiceSpec) -> list[ServiceSpec]:
    return [s for s in catalog.implemented() if service.name in calls(s)]


def _service_policy(cluster: Cluster, service: ServiceSpec) -> Manifest:
    if service.name in PUBLIC_SERVICES:
        ingress = [{"ports": _tcp(service.port)}]
    elif callers := _callers(service):
        ingress = [{"from": [_pods(cluster, c.name) for c in callers], "ports": _tcp(service.port)}]
    else:
        ingress = []
    if service.name == OPERATOR_CALLS:
        ingress.append({"from": [OPERATOR_PODS], "ports": _tcp(service.port)})
    # One rule per peer, so a peer's port is open to that peer only.
    egress = [
        {"to": [_pods(cluster, peer)], "ports": _tcp(catalog.get(peer).port)}
        for peer in calls(service)
    ]
    egress += [
        _store_egress(cluster, store) for store in service.stores if store in stores.STORE_KINDS
    ]
    clamd = cluster.spec.files.clamd
    if service.name == SCANS_FILES and clamd is not None:
        egress.append({"to": ANYWHERE, "ports": _tcp(int(clamd.rpartition(":")[2]))})
    egress += [
        {"to": ANYWHERE, "ports": _tcp(port)}
        for port in notifications.egress_ports(cluster, service)
    ]
    return _policy(
        cluster,
        naming.service_name(cluster.name, service.name),
        naming.labels(cluster.name, service.name, Component.NETWORK, service.group),
        naming.selector(cluster.name, service.name),
        ingress=ingress,
        egress=egress,
    )


def _store_policy(cluster: Cluster, store: Store) -> Manifest:
    clients = [_pods(cluster, s.name) for s in catalog.implemented() if store in s.stores]
    if store in RELATIONAL_STORES:
        clients.append(_pods(cluster, MIGRATION_NAME))
    rule: dict[str, Any] = {"from": clients, "ports": _tcp(stores.port_of(cluster, store))}
    if store == Store.OBJECTS and cluster.spec.stores.objects.public_endpoint:
        # Clients send their uploads to it directly, by presigned URLs, through that endpoint.
        rule = {"ports": rule["ports"]}
    return _policy(
        cluster,
        naming.store_name(cluster.name, store),
        naming.labels(cluster.name, str(store), Component.NETWORK),
        naming.selector(cluster.name, str(store)),
        ingress=[rule],
    )


def _migration_policy(cluster: Cluster) -> Manifest:
    return _policy(
        cluster,
        naming.policy_name(cluster.name, MIGRATION_NAME),
        naming.labels(cluster.name, MIGRATION_NAME, Component.NETWORK),
        naming.selector(cluster.name, MIGRATION_NAME),
        egress=[_store_egress(cluster, store) for store in sorted(RELATIONAL_STORES)],
    )
