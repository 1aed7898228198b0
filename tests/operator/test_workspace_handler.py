"""The Workspace handlers turn a pass into a status patch, Events and a retry, and nothing more."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from quckchat_operator import naming
from quckchat_operator.backoff import retry_delay
from quckchat_operator.handlers import workspace as handlers
from tests.operator.support import FakeApplier

Events = list[tuple[str, str, str]]


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Events:
    """The Events the handlers post: (level, reason, message)."""
    posted: Events = []

    def poster(level: str) -> Any:
        def post(body: Any, *, reason: str, message: str = "") -> None:
            posted.append((level, reason, message))

        return post

    monkeypatch.setattr(kopf, "info", poster("info"))
    monkeypatch.setattr(kopf, "warn", poster("warning"))
    return posted


def memo(*objects: dict[str, Any]) -> kopf.Memo:
    found = kopf.Memo()
    found.applier = FakeApplier(objects)
    found.locks = {}
    return found


def workspace(status: dict[str, Any] | None = None, **spec: Any) -> kopf.Body:
    raw = {
        "apiVersion": naming.GROUP_VERSION,
        "kind": naming.WORKSPACE.kind,
        "metadata": {"name": "acme", "namespace": "team", "uid": "w-uid", "generation": 2},
        "spec": {
            "clusterRef": "quckchat",
            "displayName": "Acme",
            "owner": {"email": "owner@acme.example"},
            **spec,
        },
        "status": status or {},
    }
    return kopf.Body(raw)


async def test_a_waiting_workspace_is_patched_announced_and_retried_with_backoff(
    events: Events,
) -> None:
    body, patch = workspace(), kopf.Patch()
    with pytest.raises(kopf.TemporaryError) as retried:
        await handlers.workspace_changed(
            body=body, status=body.status, patch=patch, memo=memo(), retry=3
        )
    assert retried.value.delay == retry_delay(3)
    assert patch["status"]["phase"] == "Pending"
    (ready,) = patch["status"]["conditions"]
    assert ready["reason"] == "ClusterNotFound"
    assert events == [("info", "Pending", "New -> Pending: " + ready["message"])]


async def test_a_failed_workspace_is_a_warning_and_not_retried(events: Events) -> None:
    body, patch = workspace(displayName=""), kopf.Patch()
    await handlers.workspace_changed(
        body=body, status=body.status, patch=patch, memo=memo(), retry=0
    )
    assert patch["status"]["phase"] == "Failed"
    assert [(level, reason) for level, reason, _ in events] == [("warning", "Failed")]


async def test_the_timer_writes_the_status_but_never_asks_for_a_retry(events: Events) -> None:
    body, patch = workspace({"phase": "Pending"}), kopf.Patch()
    await handlers.workspace_check(body=body, status=body.status, patch=patch, memo=memo())
    assert patch["status"]["conditions"][0]["reason"] == "ClusterNotFound"
    # Still Pending: no phase change, so no Event.
    assert "phase" not in patch["status"] and events == []


async def test_deleting_a_workspace_of_a_gone_cluster_only_says_so(events: Events) -> None:
    body, patch = workspace({"workspaceId": "w1", "phase": "Ready"}), kopf.Patch()
    await handlers.workspace_deleted(
        body=body, status=body.status, patch=patch, memo=memo(), retry=0
    )
    assert events == [("info", "Released", "QuckChatCluster quckchat is gone")]
    assert not patch


async def test_deleting_a_workspace_never_provisioned_does_nothing(events: Events) -> None:
    body, patch = workspace({"phase": "Pending"}), kopf.Patch()
    await handlers.workspace_deleted(
        body=body, status=body.status, patch=patch, memo=memo(), retry=0
    )
    assert events == [] and not patch
