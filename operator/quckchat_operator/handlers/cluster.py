"""QuckChatCluster handlers: each change and a periodic check reconcile it; deletion cleans up.

The periodic check is what notices readiness changing and children deleted or edited by hand;
it writes nothing when nothing changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import kopf

from quckchat_operator import metrics
from quckchat_operator import status as statuses
from quckchat_operator.backoff import retry_delay
from quckchat_operator.handlers import runtime
from quckchat_operator.handlers.runtime import CLUSTER, applier, reconcile_once
from quckchat_operator.models import DeletionPolicy, Phase, QuckChatClusterStatus
from quckchat_operator.reconcile import Outcome
from quckchat_operator.render.meta import InvalidCluster

CHECK_INTERVAL = 10.0
# The timer waits this long after the cluster last changed: a change has its own handler.
CHECK_IDLE = 5.0


def publish(
    outcome: Outcome, body: kopf.Body, stored: Mapping[str, Any], patch: kopf.Patch
) -> None:
    """Write the status where it differs from `stored`; an Event when the phase changes."""
    metrics.record_phase(body.metadata.namespace or "", body.metadata.name or "", outcome.phase)
    runtime.publish(
        body,
        patch,
        statuses.normalized(QuckChatClusterStatus, stored),
        outcome.status,
        why=statuses.summary(outcome.status),
        failed=outcome.phase == Phase.DEGRADED,
    )


async def _reconcile(memo: kopf.Memo, body: kopf.Body) -> Outcome:
    try:
        return await reconcile_once(memo, body)
    except InvalidCluster as exc:
        raise kopf.PermanentError(f"invalid QuckChatCluster: {exc}") from exc


@kopf.on.resume(*CLUSTER)
@kopf.on.create(*CLUSTER)
@kopf.on.update(*CLUSTER)
async def cluster_changed(
    body: kopf.Body,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **_: Any,
) -> None:
    """Any change (or the operator starting): reconcile; retry soon while a stage waits."""
    outcome = await _reconcile(memo, body)
    publish(outcome, body, status, patch)
    if outcome.waiting is not None and outcome.phase != Phase.DEGRADED:
        delay = retry_delay(retry, backoff=outcome.waiting.backoff)
        raise kopf.TemporaryError(outcome.waiting.message, delay=delay)


@kopf.timer(*CLUSTER, interval=CHECK_INTERVAL, idle=CHECK_IDLE)
async def cluster_check(
    body: kopf.Body, status: kopf.Status, patch: kopf.Patch, memo: kopf.Memo, **_: Any
) -> None:
    """Every few seconds: repair drift, follow readiness; no write when nothing changed.
    Not once the cluster is being deleted: its children are going, and a pass that re-applied
    them would keep the timer (and with it Kopf's finalizer) busy."""
    if body.meta.get("deletionTimestamp"):
        return
    publish(await _reconcile(memo, body), body, status, patch)


@kopf.on.delete(*CLUSTER, optional=True)
async def cluster_deleted(
    spec: kopf.Spec,
    name: str,
    namespace: str | None,
    memo: kopf.Memo,
    logger: kopf.Logger,
    **_: Any,
) -> None:
    """The garbage collector removes every owned child; the stores' volumes go only when
    spec.deletionPolicy is Delete (optional: no finalizer of its own holds the deletion).
    The StatefulSets go first: while one lives, its controller recreates a deleted claim."""
    metrics.record_phase(namespace or "", name, None)
    if spec.get("deletionPolicy") != DeletionPolicy.DELETE or namespace is None:
        return
    if stores := await asyncio.to_thread(applier(memo).delete_stores, name, namespace):
        raise kopf.TemporaryError(
            f"waiting for {stores} store StatefulSets to go before their volumes", delay=2
        )
    removed = await asyncio.to_thread(applier(memo).delete_volumes, name, namespace)
    logger.info(f"deletionPolicy Delete: removed {removed} PersistentVolumeClaims")
