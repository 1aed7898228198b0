"""The workspace service's internal provisioning API, as the Workspace handler uses it.

Pure mapping (a Workspace's spec to request bodies, where the service is, a workspace's URL)
beside one small async client. The client sorts every answer into what the handler needs to
know: found, gone (404), refused for the spec (4xx, `Refused`), or not reachable now (a
connection error, a timeout or a 5xx, `Unreachable`).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from quckchat import catalog
from quckchat_operator import naming
from quckchat_operator.apply import owner_reference
from quckchat_operator.models import QuckChatClusterSpec, WorkspaceSpec

URL_ENV = "QUCKCHAT_OPERATOR_WORKSPACE_URL"
CALLER_HEADER = "X-QuckChat-Caller"
CALLER = naming.MANAGED_BY
# Tokens carry the services' QUCKCHAT_DEFAULT_TENANT, which the operator leaves at its default.
TENANT = "default"
WORKSPACE = catalog.get("workspace")
GATEWAY = catalog.get("backend-gateway")
TIMEOUT = 10.0
GIB = 2**30
EXPORT_KEY = "export.json"
# A Secret holds at most 1 MiB; leave room for its metadata.
MAX_EXPORT_BYTES = 1_000_000


class Unreachable(Exception):
    """The service did not answer, or failed (5xx): worth trying again later."""


class Refused(Exception):
    """The service refused the request (4xx): the spec must change first."""

    def __init__(self, status: int, kind: str, detail: str) -> None:
        super().__init__(f"{status} {kind}: {detail}")
        self.status = status
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Provisioned:
    """The answer to a provisioning request: the workspace, and the owner's link if pending."""

    workspace: dict[str, Any]
    invite: dict[str, Any] | None


# Pure mapping.
def service_url(cluster: str, namespace: str) -> str:
    """Where the cluster's workspace service answers: its Service, or $QUCKCHAT_OPERATOR_
    WORKSPACE_URL (tests and an operator run outside the cluster)."""
    override = os.environ.get(URL_ENV)
    if override:
        return override.rstrip("/")
    return f"http://{naming.service_name(cluster, WORKSPACE.name)}.{namespace}.svc:{WORKSPACE.port}"


def public_url(cluster: str, namespace: str, spec: QuckChatClusterSpec, workspace_id: str) -> str:
    """The workspace through the gateway: at the Ingress host if there is one, else in-cluster."""
    path = f"/api/v1/{WORKSPACE.public_prefix}/{workspace_id}"
    ingress = spec.ingress
    if ingress.enabled and ingress.host:
        scheme = "https" if ingress.tls_secret_name else "http"
        return f"{scheme}://{ingress.host}{path}"
    host = f"{naming.service_name(cluster, GATEWAY.name)}.{namespace}.svc:{GATEWAY.port}"
    return f"http://{host}{path}"


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
    """POST /internal/workspaces: the whole spec, under the slug that makes a retry harmless."""
    return {
        "tenant": TENANT,
        "name": spec.display_name,
        "slug": slug,
        "owner": _owner(spec),
        "quotas": _quotas(spec),
        "settings": _settings(spec),
    }


def changes(spec: WorkspaceSpec, live: dict[str, Any]) -> dict[str, Any]:
    """PATCH /internal/workspaces/by-slug/{slug}: only what differs from `live`; {} if nothing.

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


def _problem(response: httpx.Response) -> Refused:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    kind = str(body.get("type") or "").rsplit("/", 1)[-1] or "refused"
    detail = str(body.get("detail") or body.get("title") or response.text[:200])
    return Refused(response.status_code, kind, detail)


# The client.
class WorkspaceService:
    """The internal API of one cluster's workspace service."""

    def __init__(self, base_url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url
        self._transport = transport

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        """The answer, except a 5xx or no answer at all (Unreachable)."""
        async with httpx.AsyncClient(
            base_url=self.base_url,
            headers={CALLER_HEADER: CALLER},
            timeout=TIMEOUT,
            transport=self._transport,
        ) as client:
            try:
                response = await client.request(method, path, json=body)
            except httpx.TransportError as exc:
                raise Unreachable(f"{self.base_url}: {exc!r}") from exc
        if response.status_code >= 500:
            raise Unreachable(f"{self.base_url}: {response.status_code} {response.text[:200]}")
        return response

    async def _json(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """The answer's body; None on 404; Refused on any other 4xx."""
        response = await self._call(method, path, body)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise _problem(response)
        if response.status_code == 204:
            return {}
        found: dict[str, Any] = response.json()
        return found

    @staticmethod
    def _by_slug(slug: str) -> str:
        return f"/internal/workspaces/by-slug/{slug}"

    async def get(self, slug: str) -> dict[str, Any] | None:
        return await self._json("GET", self._by_slug(slug))

    async def provision(self, body: dict[str, Any]) -> Provisioned:
        """Create the workspace of body's slug, or complete the one a lost answer made.

        A 409 means the slug is taken: read it back, and take it when it is in our tenant.
        """
        response = await self._call("POST", "/internal/workspaces", body)
        if response.status_code == 409:
            existing = await self.get(body["slug"])
            if existing is None or existing.get("tenant") != body["tenant"]:
                raise _problem(response)
            return Provisioned(existing, None)
        if response.status_code >= 400:
            raise _problem(response)
        answer = response.json()
        return Provisioned(answer["workspace"], answer.get("owner_invite"))

    async def update(self, slug: str, body: dict[str, Any]) -> dict[str, Any] | None:
        return await self._json("PATCH", self._by_slug(slug), body)

    async def export(self, slug: str) -> dict[str, Any] | None:
        return await self._json("POST", self._by_slug(slug) + "/export")

    async def delete(self, slug: str) -> bool:
        """True when this call deleted it, False when it was gone already."""
        return await self._json("DELETE", self._by_slug(slug)) is not None


# What the operator keeps in the namespace for a workspace.
def _secret(name: str, namespace: str, workspace: str, data: dict[str, str]) -> dict[str, Any]:
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


def invite_secret(owner: Mapping[str, Any], invite: Mapping[str, Any]) -> dict[str, Any]:
    """The owner's join link (url and token), owned by the Workspace so it goes with it."""
    meta = owner["metadata"]
    secret = _secret(
        naming.owner_invite_name(meta["name"]),
        meta["namespace"],
        meta["name"],
        {"url": str(invite["url"]), "token": str(invite["token"])},
    )
    secret["metadata"]["ownerReferences"] = [owner_reference(owner)]
    return secret


def export_secret(owner: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """A workspace's export as JSON; not owned, so it stays after the Workspace is deleted."""
    meta = owner["metadata"]
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
