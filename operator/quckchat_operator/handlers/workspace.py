"""Workspace handlers: provision the tenant through its cluster's workspace service, keep it at
its spec, and deprovision it behind Kopf's finalizer (exporting it first when asked).

Level-based like the cluster: each pass reads the workspace by its slug and sends only what
differs. The owner's join link, while they have not joined, is kept in a Secret the status
names (the OwnerJoined condition), never in the status itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import kopf
from pydantic import ValidationError

from quckchat_operator import naming
from quckchat_operator import status as statuses
from quckchat_operator import workspace_client as client
from quckchat_operator.apply import Applier
from quckchat_operator.handlers.cluster import FIRST_RETRY, LAST_RETRY
from quckchat_operator.handlers.runtime import applier
from quckchat_operator.models import (
    QuckChatClusterSpec,
    WorkspacePhase,
    WorkspaceSpec,
    WorkspaceStatus,
    field_errors,
)
from quckchat_operator.status import WorkspaceObservation
from quckchat_operator.workspace_client import Refused, Unreachable, WorkspaceService

WORKSPACE = (naming.API_GROUP, naming.API_VERSION, naming.WORKSPACE.plural)
# The timer notices the owner joining and changes made behind the operator's back.
CHECK_INTERVAL = 60.0
CHECK_IDLE = 15.0
Owner = tuple[str, str, str]


@dataclass(frozen=True)
class Outcome:
    """One pass: what to write to status, and whether to try again soon."""

    observed: WorkspaceObservation
    retry: bool = False


def _camel(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.split("-")) or "Refused"


def _cluster_ready(cluster: Mapping[str, Any]) -> bool:
    conditions = (cluster.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _backoff(retry: int) -> float:
    return float(min(FIRST_RETRY * 2**retry, LAST_RETRY))


def publish(
    observed: WorkspaceObservation, body: kopf.Body, stored: Mapping[str, Any], patch: kopf.Patch
) -> None:
    """Write the status where it differs from `stored`; an Event when the phase changes."""
    before = statuses.normalized(WorkspaceStatus, stored)
    after = statuses.workspace_status(observed, stored, datetime.now(UTC))
    changes = statuses.merge_patch(before, after)
    if changes:
        patch["status"] = changes
    if before.get("phase") == observed.phase:
        return
    message = f"{before.get('phase') or 'New'} -> {observed.phase}: {observed.message}"
    if observed.phase == WorkspacePhase.FAILED:
        kopf.warn(body, reason=str(observed.phase), message=message)
    else:
        kopf.info(body, reason=str(observed.phase), message=message)


async def _settle_owner(
    apply: Applier, body: Mapping[str, Any], live: Mapping[str, Any], invite: Any
) -> Owner:
    """Keep the owner's link in its Secret while they have not joined; drop it once they have."""
    meta = body["metadata"]
    name = naming.owner_invite_name(meta["name"])
    if invite is not None:
        await asyncio.to_thread(apply.apply, client.invite_secret(body, invite), None)
    if live.get("owner_ids"):
        secret = await asyncio.to_thread(apply.get, "v1", "Secret", name, meta["namespace"])
        if secret is not None:
            await asyncio.to_thread(apply.delete, secret)
        return "True", "Joined", "the owner has joined the workspace"
    return (
        "False",
        "InviteSent",
        f"the owner has not joined yet; their join link is in Secret {name} (keys url, token)",
    )


async def _converge(
    apply: Applier, service: WorkspaceService, body: Mapping[str, Any], spec: WorkspaceSpec
) -> tuple[dict[str, Any], Owner]:
    """Create the workspace if missing, then send what differs from the spec."""
    meta = body["metadata"]
    slug = naming.workspace_slug(meta["namespace"], meta["name"])
    live = await service.get(slug)
    if live is not None and live.get("tenant") != client.TENANT:
        raise Refused(409, "slug-taken", f"the slug {slug} is taken by another tenant")
    invite = None
    if live is None or not live.get("owner_ids"):
        secret = await asyncio.to_thread(
            apply.get, "v1", "Secret", naming.owner_invite_name(meta["name"]), meta["namespace"]
        )
        # A second POST replaces a pending link: only when there is none kept (a lost answer).
        if live is None or secret is None:
            provisioned = await service.provision(client.provision_body(spec, slug))
            live, invite = provisioned.workspace, provisioned.invite
    wanted = client.changes(spec, live)
    if wanted:
        updated = await service.update(slug, wanted)
        if updated is None:
            raise Unreachable(f"workspace {slug} disappeared while being updated")
        live = updated
    return live, await _settle_owner(apply, body, live, invite)


async def reconcile(memo: kopf.Memo, body: Mapping[str, Any]) -> Outcome:
    """One pass over the Workspace `body`: what the status should say afterwards."""
    meta = body["metadata"]
    namespace, generation = meta["namespace"], meta.get("generation", 1)

    def seen(phase: WorkspacePhase, reason: str, message: str, **found: Any) -> Outcome:
        retry = phase in (WorkspacePhase.PENDING, WorkspacePhase.PROVISIONING)
        return Outcome(WorkspaceObservation(phase, reason, message, generation, **found), retry)

    try:
        spec = WorkspaceSpec.model_validate(body.get("spec") or {})
    except ValidationError as exc:
        return seen(WorkspacePhase.FAILED, "InvalidSpec", "; ".join(field_errors(exc)))
    ref = spec.cluster_ref
    apply = applier(memo)
    cluster = await asyncio.to_thread(
        apply.get, naming.GROUP_VERSION, naming.CLUSTER.kind, ref, namespace
    )
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
    url = client.service_url(ref, namespace)
    try:
        live, owner = await _converge(apply, WorkspaceService(url), body, spec)
    except Unreachable as exc:
        return seen(
            WorkspacePhase.PROVISIONING,
            "ServiceUnreachable",
            f"the workspace service does not answer ({exc}); trying again",
        )
    except Refused as exc:
        return seen(
            WorkspacePhase.FAILED,
            _camel(exc.kind),
            f"the workspace service refused the spec ({exc.status}): {exc.detail}; "
            "change the spec to go on",
        )
    cluster_spec = QuckChatClusterSpec.model_validate(cluster.get("spec") or {})
    return seen(
        WorkspacePhase.READY,
        "Provisioned",
        f"workspace {live['slug']} matches the spec",
        workspace_id=live["id"],
        url=client.public_url(ref, namespace, cluster_spec, live["id"]),
        owner=owner,
    )


async def reconcile_once(memo: kopf.Memo, body: Mapping[str, Any]) -> Outcome:
    """`reconcile`, never twice at once for the same Workspace (a change and the timer)."""
    locks: dict[str, asyncio.Lock] = memo.locks
    async with locks.setdefault(body["metadata"]["uid"], asyncio.Lock()):
        return await reconcile(memo, body)


@kopf.on.resume(*WORKSPACE)
@kopf.on.create(*WORKSPACE)
@kopf.on.update(*WORKSPACE)
async def workspace_changed(
    body: kopf.Body,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **_: Any,
) -> None:
    """Any change (or the operator starting): provision or update; retry while it waits."""
    outcome = await reconcile_once(memo, body)
    publish(outcome.observed, body, status, patch)
    if outcome.retry:
        raise kopf.TemporaryError(outcome.observed.message, delay=_backoff(retry))


@kopf.timer(*WORKSPACE, interval=CHECK_INTERVAL, idle=CHECK_IDLE)
async def workspace_check(
    body: kopf.Body, status: kopf.Status, patch: kopf.Patch, memo: kopf.Memo, **_: Any
) -> None:
    """Now and then: put back what changed behind the operator's back; follow the owner."""
    publish((await reconcile_once(memo, body)).observed, body, status, patch)


def _ours(live: Mapping[str, Any], known: str | None) -> bool:
    """Whether the service's workspace of our slug is the one this Workspace provisioned."""
    return live.get("tenant") == client.TENANT and known in (None, live.get("id"))


async def _export(apply: Applier, service: WorkspaceService, body: kopf.Body, slug: str) -> None:
    """Keep the workspace's export in a Secret of its own, and say so in an Event."""
    document = await service.export(slug)
    if document is None:
        return  # deleted meanwhile: nothing left to export or delete
    size = len(json.dumps(document))
    if size > client.MAX_EXPORT_BYTES:
        raise kopf.TemporaryError(
            f"the export of {slug} is {size} bytes, more than a Secret holds; set "
            "spec.exportOnDelete to false to delete the workspace without it",
            delay=LAST_RETRY,
        )
    secret = client.export_secret(body, document)
    await asyncio.to_thread(apply.apply, secret, None)
    kopf.info(
        body,
        reason="Exported",
        message=f"exported {client.export_summary(document)} to Secret "
        f"{secret['metadata']['name']} (key {client.EXPORT_KEY}), {size} bytes",
    )


@kopf.on.delete(*WORKSPACE)
async def workspace_deleted(
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    name: str,
    namespace: str | None,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **_: Any,
) -> None:
    """Deprovision: export first when spec.exportOnDelete, then delete (gone already is done).

    Kopf's finalizer holds the Workspace until this succeeds. A workspace never provisioned, or
    whose cluster is gone or going, has nothing to deprovision.
    """
    if namespace is None:
        return
    known = status.get("workspaceId")
    if known is None and status.get("phase") in (None, "Pending", "Failed"):
        return
    generation = body.metadata.get("generation") or 1
    ref = str(spec.get("clusterRef"))
    apply = applier(memo)
    cluster = await asyncio.to_thread(
        apply.get, naming.GROUP_VERSION, naming.CLUSTER.kind, ref, namespace
    )
    if cluster is None or cluster["metadata"].get("deletionTimestamp"):
        kopf.info(body, reason="Released", message=f"QuckChatCluster {ref} is gone")
        return
    slug = naming.workspace_slug(namespace, name)
    service = WorkspaceService(client.service_url(ref, namespace))
    deleting = WorkspaceObservation(
        WorkspacePhase.DELETING, "Deleting", f"deprovisioning workspace {slug}", generation
    )
    try:
        live = await service.get(slug)
        if live is not None and not _ours(live, known):
            kopf.warn(body, reason="NotOwned", message=f"workspace {slug} is not this one's; kept")
            return
        if live is not None and spec.get("exportOnDelete"):
            await _export(apply, service, body, slug)
        deleted = live is not None and await service.delete(slug)
    except (Unreachable, Refused) as exc:
        publish(
            WorkspaceObservation(
                WorkspacePhase.DELETING,
                "ServiceUnreachable" if isinstance(exc, Unreachable) else "DeleteRefused",
                f"cannot deprovision workspace {slug} yet: {exc}; trying again",
                generation,
            ),
            body,
            status,
            patch,
        )
        raise kopf.TemporaryError(str(exc), delay=_backoff(retry)) from exc
    publish(deleting, body, status, patch)
    kopf.info(
        body,
        reason="Deprovisioned",
        message=f"workspace {slug} deleted" if deleted else f"workspace {slug} was gone already",
    )
