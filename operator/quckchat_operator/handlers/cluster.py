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
from quckchat_operator.handlers.runtime import CLUSTER, applier, reconcile_once
from quckchat_operator.models import DeletionPolicy, Phase, QuckChatClusterStatus
from quckchat_operator.reconcile import Outcome
from quckchat_operator.render.meta import InvalidCluster

# A waiting stage is checked again soon, then less and less often (a store without a volume
# may wait for hours): 2, 4, 8, 16, 30, 30... seconds.
FIRST_RETRY = 2.0
LAST_RETRY = 30.0
CHECK_INTERVAL = 10.0
# The timer waits this long after the cluster last changed: a change has its own handler.
CHECK_IDLE = 5.0


def publish(
    outcome: Outcome, body: kopf.Body, stored: Mapping[str, Any], patch: kopf.Patch
) -> None:
    """Write the status where it differs from `stored`; an Event when the phase changes."""
    before = statuses.normalized(QuckChatClusterStatus, stored)
    changes = statuses.merge_patch(before, outcome.status)
    if changes:
        patch["status"] = changes
    metrics.record_phase(body.metadata.namespace or "", body.metadata.name or "", outcome.phase)
    if before.get("phase") == outcome.phase:
        return
    message = f"{before.get('phase') or 'New'} -> {outcome.phase}: "
    message += statuses.summary(outcome.status)
    if outcome.phase == Phase.DEGRADED:
        kopf.warn(body, reason=str(outcome.phase), message=message)
    else:
        kopf.info(body, reason=str(outcome.phase), message=message)


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
        backoff = 2**retry if outcome.waiting.backoff else 1
        delay = min(FIRST_RETRY * backoff, LAST_RETRY)
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
    spec.deletionPolicy is Delete (optional: no finalizer of its own holds the deletion)."""
    metrics.record_phase(namespace or "", name, None)
    if spec.get("deletionPolicy") != DeletionPolicy.DELETE or namespace is None:
        return
    removed = await asyncio.to_thread(applier(memo).delete_volumes, name, namespace)
    logger.info(f"deletionPolicy Delete: removed {removed} PersistentVolumeClaims")
