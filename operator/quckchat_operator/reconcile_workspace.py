"""One pass over a Workspace: provision the tenant through its cluster's workspace service and
keep it at its spec, or deprovision it (exporting it first when asked).

Level-based like the cluster: each pass reads the workspace by its slug and sends only what
differs. The owner's join link, while they have not joined, is kept in a Secret the status
names (the OwnerJoined condition), never in the status itself.

The calls go through the workspace service's own client over the services' HTTP client, whose
problems sort every failure: a 5xx or no answer at all is worth trying again later; any other
refusal needs a change of the spec first. No Kopf here: the handlers turn each Outcome into a
status patch, Events and a retry.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from quckchat.core.errors import Problem
from quckchat.core.http import ServiceClient
from quckchat.core.settings import Settings
from quckchat.workspace import client as workspace_client
from quckchat_operator import naming
from quckchat_operator.apply import Applier, adopt
from quckchat_operator.backoff import LAST_RETRY
from quckchat_operator.models import (
    QuckChatClusterSpec,
    WorkspacePhase,
    WorkspaceSpec,
    field_errors,
)
from quckchat_operator.render import workspace as render
from quckchat_operator.status import WorkspaceObservation

URL_ENV = "QUCKCHAT_OPERATOR_WORKSPACE_URL"
CALLER = naming.MANAGED_BY
TIMEOUT = 10.0
Owner = tuple[str, str, str]


@dataclass(frozen=True)
class Note:
    """An Event to report on the Workspace."""

    reason: str
    message: str
    warning: bool = False


@dataclass(frozen=True)
class Outcome:
    """One pass: the status to write (None: leave it), the Events to report, and why to try
    again (None: done), after `delay` seconds or else backing off."""

    observed: WorkspaceObservation | None
    notes: tuple[Note, ...] = ()
    retry: str | None = None
    delay: float | None = None


class ExportTooLarge(Exception):
    """The export does not fit in a Secret: no quick retry changes that."""


def service_url(cluster: str, namespace: str) -> str:
    """Where the cluster's workspace service answers: its Service, or $QUCKCHAT_OPERATOR_
    WORKSPACE_URL (tests and an operator run outside the cluster)."""
    override = os.environ.get(URL_ENV)
    if override:
        return override.rstrip("/")
    host = naming.service_name(cluster, render.WORKSPACE.name)
    return f"http://{host}.{namespace}.svc:{render.WORKSPACE.port}"


@asynccontextmanager
async def workspace_service(url: str, transport: Any = None) -> AsyncIterator[ServiceClient]:
    """The services' HTTP client, reaching the workspace service at `url` for one pass."""
    # The template has no placeholders: every name it is asked for resolves to this one URL.
    settings = Settings(service_url_template=url, http_timeout_seconds=TIMEOUT)
    http = ServiceClient(settings, CALLER, transport=transport)
    try:
        yield http
    finally:
        await http.close()


def unreachable(problem: Problem) -> bool:
    """No answer, or the service failed (5xx): worth trying again later."""
    return problem.status >= 500


def _said(problem: Problem) -> str:
    return f"{problem.status} {problem.slug}: {problem.detail}"


def _camel(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("-")) or "Refused"


def _cluster_ready(cluster: Mapping[str, Any]) -> bool:
    conditions = (cluster.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def _cluster(apply: Applier, name: str, namespace: str) -> dict[str, Any] | None:
    return await asyncio.to_thread(
        apply.get, naming.GROUP_VERSION, naming.CLUSTER.kind, name, namespace
    )


async def _settle_owner(
    apply: Applier, body: Mapping[str, Any], live: Mapping[str, Any], invite: Any
) -> Owner:
    """Keep the owner's link in its Secret while they have not joined; drop it once they have."""
    meta = body["metadata"]
    name = naming.owner_invite_name(meta["name"])
    if invite is not None:
        (secret,) = adopt([render.invite_secret(body, invite)], body)
        await asyncio.to_thread(apply.apply, secret, None)
    if live.get("owner_ids"):
        kept = await asyncio.to_thread(apply.get, "v1", "Secret", name, meta["namespace"])
        if kept is not None:
            await asyncio.to_thread(apply.delete, kept)
        return "True", "Joined", "the owner has joined the workspace"
    return (
        "False",
        "InviteSent",
        f"the owner has not joined yet; their join link is in Secret {name} (keys url, token)",
    )


async def _provision(
    http: ServiceClient, request: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The workspace of the request's slug, and the owner's link while it is pending.

    A 409 for a slug our tenant holds is the workspace an earlier, unanswered request made.
    """
    try:
        answer = await workspace_client.provision(http, request)
    except Problem as exc:
        if exc.status != 409:
            raise
        existing = await workspace_client.by_slug(http, request["slug"])
        if existing is None or existing.get("tenant") != request["tenant"]:
            raise
        return existing, None
    return answer["workspace"], answer.get("owner_invite")


async def _converge(
    apply: Applier, http: ServiceClient, body: Mapping[str, Any], spec: WorkspaceSpec
) -> tuple[dict[str, Any], Owner]:
    """Create the workspace if missing, then send what differs from the spec."""
    meta = body["metadata"]
    slug = naming.workspace_slug(meta["namespace"], meta["name"])
    live = await workspace_client.by_slug(http, slug)
    if live is not None and live.get("tenant") != render.TENANT:
        raise Problem(409, f"the slug {slug} is taken by another tenant", slug="slug-taken")
    invite = None
    if live is None or not live.get("owner_ids"):
        secret = await asyncio.to_thread(
            apply.get, "v1", "Secret", naming.owner_invite_name(meta["name"]), meta["namespace"]
        )
        # A second POST replaces a pending link: only when there is none kept (a lost answer).
        if live is None or secret is None:
            live, invite = await _provision(http, render.provision_body(spec, slug))
    wanted = render.changes(spec, live)
    if wanted:
        updated = await workspace_client.update_by_slug(http, slug, wanted)
        if updated is None:
            raise Problem(503, f"workspace {slug} disappeared while being updated")
        live = updated
    return live, await _settle_owner(apply, body, live, invite)


async def reconcile(apply: Applier, body: Mapping[str, Any], *, transport: Any = None) -> Outcome:
    """Provision or update the Workspace `body`; retry while it waits for its cluster or the
    service. `transport` replaces the HTTP transport (tests)."""
    meta = body["metadata"]
    namespace, generation = meta["namespace"], meta.get("generation", 1)

    def seen(phase: WorkspacePhase, reason: str, message: str, **found: Any) -> Outcome:
        waiting = phase in (WorkspacePhase.PENDING, WorkspacePhase.PROVISIONING)
        observed = WorkspaceObservation(phase, reason, message, generation, **found)
        return Outcome(observed, retry=message if waiting else None)

    try:
        spec = WorkspaceSpec.model_validate(body.get("spec") or {})
    except ValidationError as exc:
        return seen(WorkspacePhase.FAILED, "InvalidSpec", "; ".join(field_errors(exc)))
    ref = spec.cluster_ref
    cluster = await _cluster(apply, ref, namespace)
    if cluster is None:
        return seen(
            WorkspacePhase.PENDING,
            "ClusterNotFound",
            f"QuckChatCluster {ref} does not exist in namespace {namespace}; the workspace is "
            "provisioned once it exists and is Ready",
        )
    provisioned = bool((body.get("status") or {}).get("workspaceId"))
    # Once provisioned, a cluster that is upgrading still serves its tenants.
    if not provisioned and not _cluster_ready(cluster):
        phase = (cluster.get("status") or {}).get("phase") or "new"
        return seen(
            WorkspacePhase.PENDING,
            "ClusterNotReady",
            f"waiting for QuckChatCluster {ref} to be Ready (it is {phase})",
        )
    url = service_url(ref, namespace)
    try:
        async with workspace_service(url, transport) as http:
            live, owner = await _converge(apply, http, body, spec)
    except Problem as exc:
        if unreachable(exc):
            return seen(
                WorkspacePhase.PROVISIONING,
                "ServiceUnreachable",
                f"the workspace service does not answer ({url}: {exc.detail}); trying again",
            )
        return seen(
            WorkspacePhase.FAILED,
            _camel(exc.slug),
            f"the workspace service refused the spec ({exc.status}): {exc.detail}; "
            "change the spec to go on",
        )
    cluster_spec = QuckChatClusterSpec.model_validate(cluster.get("spec") or {})
    return seen(
        WorkspacePhase.READY,
        "Provisioned",
        f"workspace {live['slug']} matches the spec",
        workspace_id=live["id"],
        url=render.public_url(ref, namespace, cluster_spec, live["id"]),
        owner=owner,
    )


def _ours(live: Mapping[str, Any], known: str | None) -> bool:
    """Whether the service's workspace of our slug is the one this Workspace provisioned."""
    return live.get("tenant") == render.TENANT and known in (None, live.get("id"))


async def _export(
    apply: Applier, http: ServiceClient, body: Mapping[str, Any], slug: str
) -> Note | None:
    """Keep the workspace's export in a Secret of its own; None when it is gone meanwhile."""
    document = await workspace_client.export_by_slug(http, slug)
    if document is None:
        return None
    size = render.export_size(document)
    if size > render.MAX_EXPORT_BYTES:
        raise ExportTooLarge(
            f"the export of {slug} is {size} bytes, more than a Secret holds; set "
            "spec.exportOnDelete to false to delete the workspace without it"
        )
    secret = render.export_secret(body, document)
    await asyncio.to_thread(apply.apply, secret, None)
    return Note(
        "Exported",
        f"exported {render.export_summary(document)} to Secret {secret['metadata']['name']} "
        f"(key {render.EXPORT_KEY}), {size} bytes",
    )


async def deprovision(apply: Applier, body: Mapping[str, Any], *, transport: Any = None) -> Outcome:
    """Delete the workspace of the Workspace `body`, exporting it first when
    spec.exportOnDelete (gone already is done).

    A workspace never provisioned, or whose cluster is gone or going, has nothing to
    deprovision; one of our slug that is not this one's is kept.
    """
    meta, stored = body["metadata"], body.get("status") or {}
    spec = body.get("spec") or {}
    namespace = meta.get("namespace")
    known = stored.get("workspaceId")
    if namespace is None or (known is None and stored.get("phase") in (None, "Pending", "Failed")):
        return Outcome(None)
    ref = str(spec.get("clusterRef"))
    cluster = await _cluster(apply, ref, namespace)
    if cluster is None or cluster["metadata"].get("deletionTimestamp"):
        return Outcome(None, (Note("Released", f"QuckChatCluster {ref} is gone"),))
    slug = naming.workspace_slug(namespace, meta["name"])
    generation = meta.get("generation") or 1
    notes: list[Note] = []
    try:
        async with workspace_service(service_url(ref, namespace), transport) as http:
            live = await workspace_client.by_slug(http, slug)
            if live is not None and not _ours(live, known):
                kept = Note("NotOwned", f"workspace {slug} is not this one's; kept", warning=True)
                return Outcome(None, (kept,))
            if live is not None and spec.get("exportOnDelete"):
                exported = await _export(apply, http, body, slug)
                if exported is not None:
                    notes.append(exported)
            deleted = live is not None and await workspace_client.delete_by_slug(http, slug)
    except ExportTooLarge as exc:
        return Outcome(None, tuple(notes), retry=str(exc), delay=LAST_RETRY)
    except Problem as exc:
        failed = WorkspaceObservation(
            WorkspacePhase.DELETING,
            "ServiceUnreachable" if unreachable(exc) else "DeleteRefused",
            f"cannot deprovision workspace {slug} yet: {_said(exc)}; trying again",
            generation,
        )
        return Outcome(failed, tuple(notes), retry=_said(exc))
    done = f"workspace {slug} deleted" if deleted else f"workspace {slug} was gone already"
    return Outcome(
        WorkspaceObservation(
            WorkspacePhase.DELETING, "Deleting", f"deprovisioning workspace {slug}", generation
        ),
        (*notes, Note("Deprovisioned", done)),
    )
