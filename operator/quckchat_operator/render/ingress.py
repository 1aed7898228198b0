"""The optional Ingress: REST to the gateway, WebSocket to realtime, on one host."""

from __future__ import annotations

from typing import Any

from quckchat import catalog
from quckchat_operator import naming
from quckchat_operator.naming import Component
from quckchat_operator.render.meta import Cluster, Manifest, manifest, metadata

# The two services clients reach from outside; network.py opens them to any source.
GATEWAY = "backend-gateway"
REALTIME = "realtime"
# Clients open their WebSocket here, at the public address realtime also answers; everything
# else is the REST API.
REALTIME_PATH = catalog.WEBSOCKET_PATH


def _path(cluster: Cluster, path: str, service: str) -> dict[str, Any]:
    return {
        "path": path,
        "pathType": "Prefix",
        "backend": {
            "service": {
                "name": naming.service_name(cluster.name, service),
                "port": {"number": catalog.get(service).port},
            }
        },
    }


def render_ingress(cluster: Cluster) -> list[Manifest]:
    """[] unless spec.ingress.enabled."""
    options = cluster.spec.ingress
    if not options.enabled:
        return []
    rule: dict[str, Any] = {
        "http": {"paths": [_path(cluster, REALTIME_PATH, REALTIME), _path(cluster, "/", GATEWAY)]}
    }
    if options.host:
        rule = {"host": options.host, **rule}
    spec: dict[str, Any] = {}
    if options.class_name:
        spec["ingressClassName"] = options.class_name
    if options.tls_secret_name:
        tls: dict[str, Any] = {"secretName": options.tls_secret_name}
        if options.host:
            tls["hosts"] = [options.host]
        spec["tls"] = [tls]
    spec["rules"] = [rule]
    return [
        manifest(
            "networking.k8s.io/v1",
            "Ingress",
            metadata(
                cluster,
                naming.ingress_name(cluster.name),
                naming.labels(cluster.name, naming.PART_OF, Component.INGRESS),
            ),
            spec=spec,
        )
    ]
