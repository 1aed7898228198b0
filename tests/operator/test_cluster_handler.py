"""The cluster timer leaves a cluster that is being deleted alone."""

from __future__ import annotations

import kopf

from quckchat_operator.handlers.cluster import cluster_check


async def test_the_timer_does_not_reconcile_a_cluster_being_deleted() -> None:
    raw = {
        "apiVersion": "quckchat.io/v1alpha1",
        "kind": "QuckChatCluster",
        "metadata": {
            "name": "going",
            "namespace": "ns",
            "uid": "u-1",
            "deletionTimestamp": "2026-12-04T18:21:53Z",
        },
        "spec": {"version": "1.0.0"},
    }
    body = kopf.Body(raw)
    patch = kopf.Patch()
    # An empty memo has no API client: any attempt to reconcile would fail here.
    await cluster_check(body=body, status=body.status, patch=patch, memo=kopf.Memo())
    assert not patch
