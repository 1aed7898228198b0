"""Phase and conditions from what was seen: which of a cluster's phases wins, what each
condition says (a crash-looping service names itself), when a condition's time moves; a
Workspace's status; and the merge patch that writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from quckchat_operator import status
from quckchat_operator.models import Condition, Phase, WorkspacePhase
from quckchat_operator.status import (
    Observation,
    Problem,
    Rollout,
    State,
    WorkspaceObservation,
    cluster_status,
    phase_of,
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


# Which phase wins.
def starting(name: str, *, exists: bool = True) -> Rollout:
    return Rollout(name, 0, 1, State.PROGRESSING, exists=exists)


def failed(name: str) -> Rollout:
    return Rollout(name, 0, 1, State.FAILED, "ReplicaSet has timed out progressing")


MIGRATION_FAILED = Problem("MigrationFailed", "Job qc-migrate-1-1-0 failed", degraded=True)
STORES_WAIT = Problem("StoresNotReady", "waiting for mysql 0/1")


def seen(
    services: dict[str, Rollout] | None = None,
    stores: dict[str, Rollout] | None = None,
    **kwargs: Any,
) -> Observation:
    return Observation(
        "1.1.0",
        7,
        {"auth": ready("qc-auth")} if services is None else services,
        {"mysql": ready("qc-mysql")} if stores is None else stores,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("observed", "previous", "phase"),
    [
        (seen(), None, Phase.READY),
        # Ready wins over a version change: the upgrade is done.
        (seen(), "1.0.0", Phase.READY),
        (seen({"auth": starting("qc-auth")}), "1.0.0", Phase.UPGRADING),
        (seen({"auth": starting("qc-auth")}), "1.1.0", Phase.PROVISIONING),
        (seen({"auth": starting("qc-auth")}), None, Phase.PROVISIONING),
        # Nothing created yet: the stores and services only exist as rendered.
        (
            seen(
                {"auth": starting("qc-auth", exists=False)}, {"mysql": starting("m", exists=False)}
            ),
            None,
            Phase.PENDING,
        ),
        # A step that waits keeps an otherwise ready cluster from Ready.
        (seen(problems=[STORES_WAIT]), None, Phase.PROVISIONING),
        (seen(problems=[MIGRATION_FAILED]), "1.0.0", Phase.DEGRADED),
        (seen({"auth": failed("qc-auth")}), None, Phase.DEGRADED),
        # Paused wins over everything, a failure included.
        (seen({"auth": failed("qc-auth")}, paused=True), "1.0.0", Phase.PAUSED),
    ],
    ids=[
        "all-ready",
        "ready-after-upgrade",
        "upgrading",
        "same-version-provisioning",
        "first-install-provisioning",
        "pending",
        "waiting-step",
        "degraded-problem",
        "deadline-exceeded",
        "paused",
    ],
)
def test_the_phase_of_what_was_seen(
    observed: Observation, previous: str | None, phase: Phase
) -> None:
    assert phase_of(observed, previous) == phase


# What each condition says.
def test_a_ready_cluster_says_so_in_every_condition() -> None:
    found = conditions(cluster_status(seen(), None, NOW))
    assert found["Ready"]["status"] == "True" and found["Ready"]["reason"] == "AllReady"
    assert found["Ready"]["message"] == "1/1 services and 1/1 stores are ready"
    assert found["Progressing"]["status"] == "False"
    assert found["Progressing"]["reason"] == "Complete"
    assert "1.1.0" in found["Progressing"]["message"]
    assert found["Degraded"]["status"] == "False"
    assert {c["observedGeneration"] for c in found.values()} == {7}


def test_a_waiting_step_is_why_the_cluster_is_not_ready_and_still_progressing() -> None:
    found = conditions(cluster_status(seen(problems=[STORES_WAIT]), None, NOW))
    assert found["Ready"]["status"] == "False"
    assert (found["Ready"]["reason"], found["Ready"]["message"]) == (
        "StoresNotReady",
        "waiting for mysql 0/1",
    )
    assert found["Progressing"]["status"] == "True"
    assert found["Progressing"]["reason"] == "Provisioning"
    assert found["Progressing"]["message"] == STORES_WAIT.message
    assert found["Degraded"]["status"] == "False"


def test_services_not_ready_are_listed_with_their_counts() -> None:
    services = {"auth": ready("qc-auth"), "user": starting("qc-user")}
    found = conditions(cluster_status(seen(services), None, NOW))
    assert found["Ready"]["reason"] == "ServicesNotReady"
    assert found["Ready"]["message"] == "1/2 services ready; waiting for user 0/1"


def test_stores_not_ready_without_a_problem_are_named_from_their_rollouts() -> None:
    observed = seen(stores={"mysql": ready("qc-mysql"), "redis": starting("qc-redis")})
    found = conditions(cluster_status(observed, None, NOW))
    assert found["Ready"]["reason"] == "StoresNotReady"
    assert "redis 0/1" in found["Ready"]["message"] and "mysql" not in found["Ready"]["message"]


def test_a_failure_stops_progress_and_counts_the_others() -> None:
    observed = seen({"auth": failed("qc-auth")}, problems=[MIGRATION_FAILED])
    found = conditions(cluster_status(observed, {"currentVersion": "1.0.0"}, NOW))
    degraded = found["Degraded"]
    # The spec's own problems come first, then the services in name order.
    assert degraded["status"] == "True" and degraded["reason"] == "MigrationFailed"
    assert degraded["message"] == "Job qc-migrate-1-1-0 failed (and 1 more failures)"
    assert found["Progressing"]["status"] == "False"
    assert found["Progressing"]["message"] == "stopped: Job qc-migrate-1-1-0 failed"
    assert found["Ready"]["status"] == "False"


def test_a_deadline_exceeded_names_the_deployment_and_what_to_read() -> None:
    found = conditions(cluster_status(seen({"auth": failed("qc-auth")}), None, NOW))
    assert found["Degraded"]["reason"] == "ProgressDeadlineExceeded"
    assert "kubectl describe deployment qc-auth" in found["Degraded"]["message"]
    assert "timed out progressing" in found["Degraded"]["message"]


def test_a_paused_cluster_says_how_to_resume() -> None:
    found = conditions(cluster_status(seen(paused=True), None, NOW))
    assert found["Progressing"]["status"] == "False"
    assert found["Progressing"]["reason"] == "Paused"
    assert "spec.paused" in found["Progressing"]["message"]


def test_the_running_version_moves_only_once_the_cluster_is_ready() -> None:
    upgrading = cluster_status(
        seen({"auth": starting("qc-auth")}), {"currentVersion": "1.0.0"}, NOW
    )
    assert upgrading["phase"] == "Upgrading"
    assert (upgrading["currentVersion"], upgrading["targetVersion"]) == ("1.0.0", "1.1.0")
    done = cluster_status(seen(), upgrading, NOW)
    assert (done["currentVersion"], done["targetVersion"]) == ("1.1.0", "1.1.0")
    assert done["readyServices"] == "1/1" and done["services"] == {
        "auth": {"ready": 1, "desired": 1}
    }


def test_a_condition_keeps_its_time_until_its_status_changes() -> None:
    earlier = [
        Condition.model_validate(
            {"type": "Ready", "status": "False", "lastTransitionTime": "2026-01-01T00:00:00Z"}
        ),
        Condition.model_validate(
            {"type": "Degraded", "status": "False", "lastTransitionTime": "2026-01-01T00:00:00Z"}
        ),
    ]
    later = NOW + timedelta(hours=1, microseconds=5)
    wanted = [("Ready", "True", "AllReady", "ok"), ("Degraded", "False", "AsExpected", "fine")]
    ready, degraded = status.conditions(earlier, wanted, 8, later)
    # A flipped status takes the new time (whole seconds); an unchanged one keeps the old.
    assert ready.last_transition_time == later.replace(microsecond=0)
    assert degraded.last_transition_time == earlier[1].last_transition_time
    assert (ready.reason, ready.observed_generation) == ("AllReady", 8)


def test_an_unchanged_cluster_gets_an_unchanged_status() -> None:
    first = cluster_status(seen(), None, NOW)
    assert status.merge_patch(first, cluster_status(seen(), first, NOW + timedelta(hours=2))) == {}


def test_listed_shows_the_first_few_names_and_how_many_more() -> None:
    rollouts = {f"s{i}": starting(f"qc-s{i}") for i in range(7)}
    assert status.listed(rollouts) == "s0 0/1, s1 0/1, s2 0/1, s3 0/1, s4 0/1 and 2 more"
    assert status.listed(rollouts, counts=False) == "s0, s1, s2, s3, s4 and 2 more"


def test_the_merge_patch_sets_what_changed_and_nulls_what_went() -> None:
    before = {"phase": "Ready", "services": {"auth": {"ready": 1}, "user": {"ready": 1}}, "x": 1}
    after = {"phase": "Ready", "services": {"auth": {"ready": 0}}, "y": 2}
    assert status.merge_patch(before, after) == {
        "services": {"auth": {"ready": 0}, "user": None},
        "x": None,
        "y": 2,
    }
    assert status.merge_patch(after, after) == {}


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
