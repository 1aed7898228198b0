"""ServiceGroup handlers: a change of replicas or autoscaling re-renders the owning cluster.

`kubectl scale servicegroup/NAME --replicas=N` changes spec.replicas through the scale
subresource; this handler makes the group's Deployments follow at once. The group's status (what
the scale subresource reads) is written by every reconcile of the cluster.
"""

from __future__ import annotations

import asyncio
from typing import Any

import kopf

from quckchat_operator import naming
from quckchat_operator.handlers.runtime import SERVICE_GROUP, applier, reconcile_once


@kopf.on.update(*SERVICE_GROUP, field="spec")
async def service_group_changed(
    spec: kopf.Spec, namespace: str | None, memo: kopf.Memo, logger: kopf.Logger, **_: Any
) -> None:
    """Reconcile the cluster the group belongs to; its own timer then updates its status."""
    if namespace is None:
        return
    cluster = await asyncio.to_thread(
        applier(memo).get, naming.GROUP_VERSION, naming.CLUSTER.kind, spec["cluster"], namespace
    )
    if cluster is None:
        logger.info(f"QuckChatCluster {spec['cluster']} is gone; nothing to scale")
        return
    outcome = await reconcile_once(memo, cluster)
    logger.info(f"cluster {spec['cluster']} reconciled after a scaling change: {outcome.phase}")
