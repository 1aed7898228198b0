"""What a Workspace's spec turns into: the workspace the service should hold, and the Secrets
the operator keeps beside it in the namespace (the owner's join link, the export)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from quckchat import catalog
from quckchat_operator import naming
from quckchat_operator.models import QuckChatClusterSpec, WorkspaceSpec
from quckchat_operator.render.meta import Manifest

# Tokens carry the services' QUCKCHAT_DEFAULT_TENANT, which the operator leaves at its default.
TENANT = "default"
WORKSPACE = catalog.get("workspace")
GATEWAY = catalog.get("backend-gateway")
GIB = 2**30
EXPORT_KEY = "export.json"
# A Secret holds at most 1 MiB; leave room for its metadata.
MAX_EXPORT_BYTES = 1_000_000


# The workspace in the service.
def _owner(spec: WorkspaceSpec) -> dict[str, str]:
    if spec.owner.email is not None:
        return {"email": str(spec.owner.email)}
    return {"phone": str(spec.owner.phone)}


def _quotas(spec: WorkspaceSpec) -> dict[str, int]:
    return {
        "max_members": spec.quotas.members,
        "max_storage_bytes": spec.quotas.storage_gib * GIB,
    }


def _settings(spec: WorkspaceSpec) -> dict[str, Any]:
    # The CRD's 0 ("keep forever") is the service's null.
    return {
        "retention_days": spec.settings.retention_days or None,
        "guests_allowed": spec.settings.guests_allowed,
    }


def provision_body(spec: WorkspaceSpec, slug: str) -> dict[str, Any]:
    """The provisioning request: the whole spec, under the slug that makes a retry harmless."""
    return {
        "tenant": TENANT,
        "name": spec.display_name,
        "slug": slug,
        "owner": _owner(spec),
        "quotas": _quotas(spec),
        "settings": _settings(spec),
    }


def changes(spec: WorkspaceSpec, live: Mapping[str, Any]) -> dict[str, Any]:
    """The update request: only what differs from `live`; {} if nothing.

    The owner is not among them: once provisioned, ownership is the workspace's own business.
    """
    found: dict[str, Any] = {}
    if live.get("name") != spec.display_name:
        found["name"] = spec.display_name
    for section, wanted in (("quotas", _quotas(spec)), ("settings", _settings(spec))):
        current = live.get(section) or {}
        differ = {k: v for k, v in wanted.items() if k not in current or current[k] != v}
        if differ:
            found[section] = differ
    return found


def public_url(cluster: str, namespace: str, spec: QuckChatClusterSpec, workspace_id: str) -> str:
    """The workspace through the gateway: at the Ingress host if there is one, else in-cluster."""
    path = f"/api/v1/{WORKSPACE.public_prefix}/{workspace_id}"
    ingress = spec.ingress
    if ingress.enabled and ingress.host:
        scheme = "https" if ingress.tls_secret_name else "http"
        return f"{scheme}://{ingress.host}{path}"
    host = f"{naming.service_name(cluster, GATEWAY.name)}.{namespace}.svc:{GATEWAY.port}"
    return f"http://{host}{path}"


# The Secrets in the namespace.
def _secret(name: str, namespace: str, workspace: str, data: dict[str, str]) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                naming.LABEL_PART_OF: naming.PART_OF,
                naming.LABEL_MANAGED_BY: naming.MANAGED_BY,
                naming.LABEL_WORKSPACE: workspace,
            },
        },
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def invite_secret(workspace: Mapping[str, Any], invite: Mapping[str, Any]) -> Manifest:
    """The owner's join link (url and token); the caller adopts it so it goes with the
    Workspace."""
    meta = workspace["metadata"]
    return _secret(
        naming.owner_invite_name(meta["name"]),
        meta["namespace"],
        meta["name"],
        {"url": str(invite["url"]), "token": str(invite["token"])},
    )


def export_size(document: Mapping[str, Any]) -> int:
    """The export's size as JSON, to hold against MAX_EXPORT_BYTES."""
    return len(json.dumps(document))


def export_secret(workspace: Mapping[str, Any], document: Mapping[str, Any]) -> Manifest:
    """A workspace's export as JSON; never adopted, so it stays after the Workspace is deleted."""
    meta = workspace["metadata"]
    text = json.dumps(document, sort_keys=True)
    return _secret(
        naming.export_name(meta["name"]), meta["namespace"], meta["name"], {EXPORT_KEY: text}
    )


def export_summary(document: Mapping[str, Any]) -> str:
    workspace = document.get("workspace") or {}
    return (
        f"workspace {workspace.get('slug')} ({workspace.get('id')}): "
        f"{len(document.get('members') or [])} members, "
        f"{len(document.get('channels') or [])} channels"
    )
