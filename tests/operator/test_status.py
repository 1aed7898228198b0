"""What a status says: a crash-looping service after the cluster was Ready turns it Degraded,
naming the service; a Workspace's status keeps what the service last said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from quckchat_operator import status
from quckchat_operator.models import WorkspacePhase
from quckchat_operator.status import (
    Observation,
    Rollout,
    State,
    WorkspaceObservation,
    cluster_status,
    with_trouble,
)

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def pod(name: str, *, waiting: str | None = None, restarts: int = 0) -> dict[str, Any]:
    state: dict[str, Any] = (
        {"waiting": {"reason": waiting, "message": "back-off 40s restarting"}}
        if waiting
        else {"running": {"startedAt": "2026-12-04T00:00:00Z"}}
    )
    return {
        "metadata": {"name": name},
        "status": {
            "containerStatuses": [{"name": "message", "state": state, "restartCount": restarts}]
        },
    }


def ready(name: str) -> Rollout:
    return Rollout(name, 1, 1, State.COMPLETE)


def observe(services: dict[str, Rollout]) -> dict[str, Any]:
    observed = Observation("1.0.0", 1, services, {"mysql": ready("qc-mysql")})
    return cluster_status(observed, {"currentVersion": "1.0.0"}, NOW)


def conditions(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status["conditions"]}


def test_a_crash_loop_is_degraded_with_the_service_pod_and_command() -> None:
    crashing = with_trouble(
        Rollout("qc-message", 1, 2, State.PROGRESSING),
        [pod("qc-message-a"), pod("qc-message-b", waiting="CrashLoopBackOff", restarts=5)],
    )
    status = observe({"auth": ready("qc-auth"), "message": crashing})
    assert status["phase"] == "Degraded"
    degraded = conditions(status)["Degraded"]
    assert degraded["status"] == "True" and degraded["reason"] == "ServiceFailing"
    assert "service message" in degraded["message"]
    assert "qc-message-b" in degraded["message"] and "5 restarts" in degraded["message"]
    assert "kubectl logs qc-message-b -c message --previous" in degraded["message"]


def test_a_missing_image_is_named_too() -> None:
    stuck = with_trouble(
        Rollout("qc-auth", 0, 1, State.PROGRESSING), [pod("qc-auth-x", waiting="ErrImageNeverPull")]
    )
    degraded = conditions(observe({"auth": stuck}))["Degraded"]
    assert (
        "ErrImageNeverPull" in degraded["message"] and "kubectl describe pod" in degraded["message"]
    )


def test_pods_starting_or_running_are_no_trouble() -> None:
    starting = with_trouble(
        Rollout("qc-auth", 0, 1, State.PROGRESSING), [pod("qc-auth-x", waiting="ContainerCreating")]
    )
    assert starting.trouble == ""
    status = observe({"auth": with_trouble(ready("qc-auth"), [pod("qc-auth-y")])})
    assert status["phase"] == "Ready"
    assert conditions(status)["Degraded"]["status"] == "False"


# A Workspace's status.
def workspace_ready(**found: Any) -> WorkspaceObservation:
    return WorkspaceObservation(
        WorkspacePhase.READY,
        "Provisioned",
        "workspace team-acme matches the spec",
        3,
        workspace_id="w1",
        url="http://x/api/v1/workspaces/w1",
        **found,
    )


def test_a_ready_workspace_reports_its_id_url_and_conditions() -> None:
    owner = ("False", "InviteSent", "their join link is in Secret acme-owner-invite")
    new = status.workspace_status(workspace_ready(owner=owner), None, NOW)
    assert new["phase"] == "Ready" and new["workspaceId"] == "w1"
    assert new["url"] == "http://x/api/v1/workspaces/w1" and new["observedGeneration"] == 3
    found = conditions(new)
    assert found["Ready"]["status"] == "True"
    assert found["Ready"]["reason"] == "Provisioned"
    assert found["OwnerJoined"]["status"] == "False"
    assert "acme-owner-invite" in found["OwnerJoined"]["message"]


def test_the_same_workspace_observation_later_changes_nothing() -> None:
    first = status.workspace_status(workspace_ready(), None, NOW)
    again = status.workspace_status(workspace_ready(), first, NOW + timedelta(minutes=5))
    assert status.merge_patch(first, again) == {}


def test_without_an_answer_the_id_and_owner_condition_are_kept() -> None:
    owner = ("True", "Joined", "the owner has joined the workspace")
    first = status.workspace_status(workspace_ready(owner=owner), None, NOW)
    unreachable = WorkspaceObservation(
        WorkspacePhase.PROVISIONING, "ServiceUnreachable", "does not answer", 4
    )
    later = status.workspace_status(unreachable, first, NOW + timedelta(minutes=1))
    assert later["workspaceId"] == "w1" and later["phase"] == "Provisioning"
    found = conditions(later)
    assert found["Ready"]["status"] == "False"
    assert found["Ready"]["reason"] == "ServiceUnreachable"
    assert found["Ready"]["lastTransitionTime"] != found["OwnerJoined"]["lastTransitionTime"]
    assert found["OwnerJoined"]["status"] == "True"
